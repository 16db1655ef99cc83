{
  "targets": [
    {
      "target_name": "dvs_netdev",
      "sources": [
        "src/native/addon.cc",
        "src/native/common.cc",
        "src/native/fd-handle.cc",
        "src/native/tap.cc",
        "src/native/udp.cc",
        "src/native/netns.cc",
        "src/native/attach.cc",
        "src/native/packet-ring.cc",
        "src/native/netlink.cc",
        "src/native/link-record.cc",
        "src/native/monitor-socket.cc",
        "src/native/rtnetlink.cc",
        "src/native/link-program.cc",
        "src/native/neighbour.cc",
        "src/native/ip-neighbour.cc",
        "src/native/stage-trace.cc",
        "src/native/loop-spin.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
