#!/usr/bin/env bash
# Idempotent set-up that `npm run demo`, `npm test` and `npm run bench` call first.
#  1. Debian packages the project needs (installed with apt-get only when missing).
#  2. `npm ci` when node_modules does not match package-lock.json.
#  3. Build: native addon (node-gyp, from source) and TypeScript (tsc -b).
# When everything is present it takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# Debian package -> a file it installs (dpkg -s is slow-ish; a file test is instant).
declare -A NEEDS=(
  [etcd-server]=/usr/bin/etcd
  [etcd-client]=/usr/bin/etcdctl
  [iproute2]=/usr/sbin/ip
  [iperf3]=/usr/bin/iperf3
  [iputils-ping]=/usr/bin/ping
  [tshark]=/usr/bin/tshark
  [tcpdump]=/usr/bin/tcpdump
  # Flow collectors the flow-export e2e test exports to: nfcapd/nfdump
  # (IPFIX) and pmacct's sfacctd (sFlow v5).
  [nfdump]=/usr/bin/nfcapd
  [pmacct]=/usr/sbin/sfacctd
  [procps]=/usr/bin/pgrep
  [openssl]=/usr/bin/openssl
  # Real QEMU guests (packages/lab/src/qemu): QEMU, and for the guest image
  # (built on first use from Debian packages) depmod, xz and zstd for kernel
  # modules. busybox-static is checked below: /bin/busybox alone may be the
  # dynamically linked busybox package, which cannot run in an initramfs.
  # (QEMU also runs the deploy/qemu hooks in the e2e tests.)
  [qemu-system-x86]=/usr/bin/qemu-system-x86_64
  [kmod]=/sbin/depmod
  [xz-utils]=/usr/bin/xz
  [zstd]=/usr/bin/zstd
  # cpio(1) checks the initramfs writer against a real implementation in the tests.
  [cpio]=/usr/bin/cpio
  # A private libvirtd in the libvirt e2e test (test/support/libvirtd.ts): the
  # daemon, its QEMU driver and virsh. Not libvirt-daemon-system: on a machine
  # with systemd it would start the system libvirtd and its default network.
  [libvirt-daemon]=/usr/sbin/libvirtd
  [libvirt-daemon-driver-qemu]=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
  [libvirt-clients]=/usr/bin/virsh
  # Packaging (npm run package, package:image) and its tests: dpkg-shlibdeps,
  # the image's Debian root file system, buildah/podman, unit verification.
  [dpkg-dev]=/usr/bin/dpkg-shlibdeps
  [mmdebstrap]=/usr/bin/mmdebstrap
  [buildah]=/usr/bin/buildah
  [podman]=/usr/bin/podman
  # The units' check (systemd-analyze verify), in lab-deploy-scripts and the package tests.
  [systemd]=/usr/bin/systemd-analyze
)
missing=()
for pkg in "${!NEEDS[@]}"; do
  [ -e "${NEEDS[$pkg]}" ] || missing+=("$pkg")
done
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "run as root (or: sudo apt-get install -y ${missing[*]}) and try again"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the default (no) is right for us.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/dvs-apt.log 2>&1; then
    say "apt-get install failed; refreshing the package lists once (apt-get update)"
    apt-get update >>/tmp/dvs-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/dvs-apt.log 2>&1 || {
      say "apt-get install failed, see /tmp/dvs-apt.log"
      tail -20 /tmp/dvs-apt.log >&2
      exit 1
    }
  fi
fi

# npm ci when the lock file changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.dvs-lock-hash
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund >/tmp/dvs-npm-ci.log 2>&1 || {
    say "npm ci failed, see /tmp/dvs-npm-ci.log"
    tail -30 /tmp/dvs-npm-ci.log >&2
    exit 1
  }
  echo "$lock_hash" >"$stamp"
fi

# Native addon: npm ci builds it (install script); rebuild when it is missing or
# its sources changed since it was built (a pull that touched the C++).
native_hash=$(cat packages/netdev/binding.gyp packages/netdev/src/native/* 2>/dev/null | sha256sum | cut -d' ' -f1)
native_stamp=packages/netdev/build/.dvs-src-hash
if [ -f packages/netdev/binding.gyp ] && { [ ! -f packages/netdev/build/Release/dvs_netdev.node ] ||
  { [ -f "$native_stamp" ] && [ "$(cat "$native_stamp")" != "$native_hash" ]; }; }; then
  say "building the native addon (node-gyp)"
  # The same script npm ci runs (packages/netdev/scripts/build-addon.mjs): npm's node-gyp, local headers.
  node packages/netdev/scripts/build-addon.mjs >/tmp/dvs-node-gyp.log 2>&1 || {
    say "node-gyp build failed, see /tmp/dvs-node-gyp.log"
    tail -30 /tmp/dvs-node-gyp.log >&2
    exit 1
  }
fi
[ -d packages/netdev/build ] && echo "$native_hash" >"$native_stamp"

say "building TypeScript (tsc -b)"
# The packages first, then the root (the end-to-end tests): in one tsc -b run
# from a clean tree, test/ sometimes failed to resolve @dvs/lab although lab had
# just been built (reproduced on clean clones); a second run resolves it.
packages=()
for dir in packages/*/; do [ -f "$dir/tsconfig.json" ] && packages+=("$dir"); done
if ! node_modules/.bin/tsc -b "${packages[@]}" || ! node_modules/.bin/tsc -b; then
  # Say which project failed and why, not only the errors of those downstream.
  say "tsc -b failed; what each project did:"
  node_modules/.bin/tsc -b --verbose 2>&1 | grep -E "Project|error|Building|Skipping" | head -60 >&2 || true
  for pkg in packages/*/package.json; do
    types=$(node -e 'const p=require(process.argv[1]);console.log(p.types??"")' "$PWD/$pkg")
    [ -z "$types" ] || [ -f "$(dirname "$pkg")/$types" ] || say "not built: $(dirname "$pkg")/$types"
  done
  exit 1
fi
# tsc does not set the execute bit; the bins (dvs, dvs-agent, dvs-controller) need it.
chmod +x packages/*/dist/src/main.js 2>/dev/null || true
