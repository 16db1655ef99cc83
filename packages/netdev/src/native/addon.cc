// dvs_netdev: the native half of @dvs/netdev. Everything runs on the JS thread;
// readiness comes from uv_poll on Node's own loop (fd-handle.cc).
#include <napi.h>

#include "fd-handle.h"
#include "native.h"
#include "packet-ring.h"
#include "loop-spin.h"
#include "stage-trace.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("FdHandle", dvs::FdHandle::Define(env));
  exports.Set("tapOpen", Napi::Function::New<dvs::TapOpen>(env, "tapOpen"));
  exports.Set("tapRead", Napi::Function::New<dvs::TapRead>(env, "tapRead"));
  exports.Set("tapWrite", Napi::Function::New<dvs::TapWrite>(env, "tapWrite"));
  exports.Set("tapSetOffload", Napi::Function::New<dvs::TapSetOffload>(env, "tapSetOffload"));
  exports.Set("udpOpen", Napi::Function::New<dvs::UdpOpen>(env, "udpOpen"));
  exports.Set("udpEnableGro", Napi::Function::New<dvs::UdpEnableGro>(env, "udpEnableGro"));
  exports.Set("udpRecv", Napi::Function::New<dvs::UdpRecv>(env, "udpRecv"));
  exports.Set("udpSend", Napi::Function::New<dvs::UdpSend>(env, "udpSend"));
  exports.Set("PacketRing", dvs::PacketRing::Define(env));
  exports.Set("attachOpen", Napi::Function::New<dvs::AttachOpen>(env, "attachOpen"));
  exports.Set("attachRecv", Napi::Function::New<dvs::AttachRecv>(env, "attachRecv"));
  exports.Set("attachSend", Napi::Function::New<dvs::AttachSend>(env, "attachSend"));
  exports.Set("attachStatus", Napi::Function::New<dvs::AttachStatus>(env, "attachStatus"));
  exports.Set("attachMtu", Napi::Function::New<dvs::AttachMtu>(env, "attachMtu"));
  exports.Set("attachKernelStats", Napi::Function::New<dvs::AttachKernelStats>(env, "attachKernelStats"));
  exports.Set("linkQuery", Napi::Function::New<dvs::LinkQuery>(env, "linkQuery"));
  exports.Set("linkMonitorOpen", Napi::Function::New<dvs::LinkMonitorOpen>(env, "linkMonitorOpen"));
  exports.Set("linkMonitorRead", Napi::Function::New<dvs::LinkMonitorRead>(env, "linkMonitorRead"));
  exports.Set("rtnlOpen", Napi::Function::New<dvs::RtnlOpen>(env, "rtnlOpen"));
  exports.Set("rtnlLinks", Napi::Function::New<dvs::RtnlLinks>(env, "rtnlLinks"));
  exports.Set("rtnlLinkCreate", Napi::Function::New<dvs::RtnlLinkCreate>(env, "rtnlLinkCreate"));
  exports.Set("rtnlLinkSet", Napi::Function::New<dvs::RtnlLinkSet>(env, "rtnlLinkSet"));
  exports.Set("rtnlLinkDelete", Napi::Function::New<dvs::RtnlLinkDelete>(env, "rtnlLinkDelete"));
  exports.Set("fdbApply", Napi::Function::New<dvs::FdbApply>(env, "fdbApply"));
  exports.Set("fdbDump", Napi::Function::New<dvs::FdbDump>(env, "fdbDump"));
  exports.Set("fdbMonitorOpen", Napi::Function::New<dvs::FdbMonitorOpen>(env, "fdbMonitorOpen"));
  exports.Set("fdbMonitorRead", Napi::Function::New<dvs::FdbMonitorRead>(env, "fdbMonitorRead"));
  exports.Set("ipNeighApply", Napi::Function::New<dvs::IpNeighApply>(env, "ipNeighApply"));
  exports.Set("ipNeighDump", Napi::Function::New<dvs::IpNeighDump>(env, "ipNeighDump"));
  exports.Set("snoopOpen", Napi::Function::New<dvs::SnoopOpen>(env, "snoopOpen"));
  exports.Set("snoopRecv", Napi::Function::New<dvs::SnoopRecv>(env, "snoopRecv"));
  exports.Set("netnsEnter", Napi::Function::New<dvs::NetnsEnter>(env, "netnsEnter"));
  exports.Set("netnsRestore", Napi::Function::New<dvs::NetnsRestore>(env, "netnsRestore"));
  exports.Set("stageTraceStart", Napi::Function::New<dvs::StageTraceStart>(env, "stageTraceStart"));
  exports.Set("stageTraceTake", Napi::Function::New<dvs::StageTraceTake>(env, "stageTraceTake"));
  exports.Set("stageMark", Napi::Function::New<dvs::StageMarkFromJs>(env, "stageMark"));
  exports.Set("stageTraceStop", Napi::Function::New<dvs::StageTraceStop>(env, "stageTraceStop"));
  exports.Set("loopSpin", Napi::Function::New<dvs::LoopSpin>(env, "loopSpin"));
  exports.Set("loopSpinStats", Napi::Function::New<dvs::LoopSpinStats>(env, "loopSpinStats"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dvs_netdev, Init)
