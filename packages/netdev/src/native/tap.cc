// TAP devices: open/create/adopt (IFF_TAP | IFF_NO_PI, non-blocking, and
// IFF_VNET_HDR when offloads are asked for), MTU and link state through ioctls
// on an AF_INET socket (no `ip` child process), offloads (TUNSETOFFLOAD, one
// mask per call: src/tap-offloads.ts negotiates), and batched frame
// read/write: one N-API crossing per batch, one syscall per frame (a TAP has
// no multi-frame read; with offloads one frame can be a 64 KiB super-frame).
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"
#include "loop-spin.h"
#include "stage-trace.h"
#include "native.h"

namespace dvs {

namespace {

// Closes an fd on scope exit unless released.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int Release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

bool InterfaceIoctl(int ctl, unsigned long request, struct ifreq* ifr) { return ioctl(ctl, request, ifr) == 0; }

}  // namespace

// tapOpen({ name, persistent: -1|0|1, owner: -1|uid, group: -1|gid, mtu: 0|n, up: bool,
//           vnetHeaderLength: 0|10|12, multiQueue: bool })
//   -> { fd, name, mtu, existed }
//   vnetHeaderLength > 0: IFF_VNET_HDR and TUNSETVNETHDRSZ, so every frame
//   read and written carries a virtio-net header of that length in front.
//   multiQueue: IFF_MULTI_QUEUE; each open of the same name attaches one more
//   queue (its own fd); every open of the device must ask for it.
Napi::Value TapOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return ThrowRange(env, "tapOpen(options)");
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value nameValue = options.Get("name");
  if (!nameValue.IsString() || !options.Get("persistent").IsNumber() || !options.Get("owner").IsNumber() ||
      !options.Get("group").IsNumber() || !options.Get("mtu").IsNumber()) {
    return ThrowRange(env, "tapOpen({ name, persistent, owner, group, mtu, up })");
  }
  std::string name = nameValue.As<Napi::String>().Utf8Value();
  int persistent = options.Get("persistent").As<Napi::Number>().Int32Value();
  int64_t owner = options.Get("owner").As<Napi::Number>().Int64Value();
  int64_t group = options.Get("group").As<Napi::Number>().Int64Value();
  int mtu = options.Get("mtu").As<Napi::Number>().Int32Value();
  bool up = options.Get("up").ToBoolean().Value();
  Napi::Value headerValue = options.Get("vnetHeaderLength");
  int vnetHeaderLength = headerValue.IsNumber() ? headerValue.As<Napi::Number>().Int32Value() : 0;
  const bool multiQueue = options.Get("multiQueue").ToBoolean().Value();
  if (vnetHeaderLength != 0 && vnetHeaderLength != 10 && vnetHeaderLength != 12) {
    return ThrowRange(env, "tapOpen: vnetHeaderLength must be 0, 10 or 12");
  }
  if (name.size() >= IFNAMSIZ) return ThrowErrno(env, "name", ENAMETOOLONG);

  FdGuard ctl{socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (ctl.fd < 0) return ThrowErrno(env, "socket", errno);
  bool existed = if_nametoindex(name.c_str()) != 0;

  FdGuard tun{open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)};
  if (tun.fd < 0) return ThrowErrno(env, "open /dev/net/tun", errno);

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnetHeaderLength > 0 ? IFF_VNET_HDR : 0) | (multiQueue ? IFF_MULTI_QUEUE : 0);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(tun.fd, TUNSETIFF, &ifr) != 0) return ThrowErrno(env, "TUNSETIFF", errno);
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  if (vnetHeaderLength > 0 && ioctl(tun.fd, TUNSETVNETHDRSZ, &vnetHeaderLength) != 0) {
    return ThrowErrno(env, "TUNSETVNETHDRSZ", errno);
  }
  // The device's offload features outlive our fd on a persistent TAP: start
  // from none (a reader without headers must never get a super-frame); the
  // caller asks for what it wants with tapSetOffload.
  if (ioctl(tun.fd, TUNSETOFFLOAD, 0UL) != 0) return ThrowErrno(env, "TUNSETOFFLOAD", errno);

  if (owner >= 0 && ioctl(tun.fd, TUNSETOWNER, static_cast<unsigned long>(owner)) != 0) {
    return ThrowErrno(env, "TUNSETOWNER", errno);
  }
  if (group >= 0 && ioctl(tun.fd, TUNSETGROUP, static_cast<unsigned long>(group)) != 0) {
    return ThrowErrno(env, "TUNSETGROUP", errno);
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, actual.data(), actual.size());
  if (mtu > 0) {
    ifr.ifr_mtu = mtu;
    if (!InterfaceIoctl(ctl.fd, SIOCSIFMTU, &ifr)) return ThrowErrno(env, "SIOCSIFMTU", errno);
  }
  if (up) {
    if (!InterfaceIoctl(ctl.fd, SIOCGIFFLAGS, &ifr)) return ThrowErrno(env, "SIOCGIFFLAGS", errno);
    if ((ifr.ifr_flags & IFF_UP) == 0) {
      ifr.ifr_flags |= IFF_UP;
      if (!InterfaceIoctl(ctl.fd, SIOCSIFFLAGS, &ifr)) return ThrowErrno(env, "SIOCSIFFLAGS", errno);
    }
  }
  if (!InterfaceIoctl(ctl.fd, SIOCGIFMTU, &ifr)) return ThrowErrno(env, "SIOCGIFMTU", errno);
  // Persistence last: an open that fails above leaves no new persistent device behind.
  if (persistent >= 0 && ioctl(tun.fd, TUNSETPERSIST, static_cast<unsigned long>(persistent)) != 0) {
    return ThrowErrno(env, "TUNSETPERSIST", errno);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, tun.Release()));
  result.Set("name", Napi::String::New(env, actual));
  result.Set("mtu", Napi::Number::New(env, ifr.ifr_mtu));
  result.Set("existed", Napi::Boolean::New(env, existed));
  return result;
}

// tapRead(fd, buffer, slotSize, capacity, offsets, lengths, headroom, family, dropStats: Float64Array[1],
//         vnetHeaderLength = 0)
//   -> frames read. Reads until EAGAIN or capacity; frames that do not fit in
//   slotSize - headroom are dropped and counted in dropStats[0]. With a
//   12-byte header the kernel writes 10 bytes and skips num_buffers: it is
//   zeroed here, so a slot never shows a previous frame's bytes there.
Napi::Value TapRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  BatchView batch;
  uint32_t headroom;
  if (!ReadInt(info, 0, &fd) || !ReadBatchWithHeadroom(info, 1, &batch, &headroom)) return Napi::Value();
  uint8_t* family = ReadBytes(info, 7, batch.capacity);
  double* drops = ReadCounter(info, 8);
  if (family == nullptr || drops == nullptr) return Napi::Value();
  int32_t vnetHeaderLength = 0;
  if (info.Length() > 9 && !ReadInt(info, 9, &vnetHeaderLength)) return Napi::Value();
  const size_t room = batch.slotSize - headroom;
  uint32_t n = 0;
  // Bounded even when every frame is too big, so one call never starves the loop.
  for (uint32_t attempts = 0; n < batch.capacity && attempts < 2 * batch.capacity; attempts++) {
    uint8_t* dst = batch.data + static_cast<size_t>(n) * batch.slotSize + headroom;
    // A second one-byte iovec: a read that reaches it means the frame was
    // longer than the room (the kernel truncates silently), so it is dropped.
    uint8_t spill;
    struct iovec iov[2] = {{dst, room}, {&spill, 1}};
    if (vnetHeaderLength == 12 && room >= 12) dst[10] = dst[11] = 0;
    ssize_t r = readv(fd, iov, 2);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (n > 0) break;
      return ThrowErrno(env, "read", errno);
    }
    if (static_cast<size_t>(r) > room) {
      drops[0] += 1;
      continue;
    }
    batch.offsets[n] = headroom;
    batch.lengths[n] = static_cast<uint32_t>(r);
    family[n] = 0;
    n++;
  }
  NoteFramesReceived(n);
  if (n > 0) MarkStage(kStageTapRead, fd, n);
  return Napi::Number::New(env, n);
}

// tapWrite(fd, buffer, slotSize, capacity, offsets, lengths, slots, n, drops: Float64Array[2],
//          vnetHeaderLength = 0, headerless = false)
//   headerless (with vnetHeaderLength > 0): the slots hold plain frames; each
//   is written behind an all-zero header (writev), so a TAP with headers
//   takes frames that were never given one.
//   -> slots consumed from the front: written, or dropped and counted —
//   drops[0] invalid (runt: shorter than the header + 14 bytes; EINVAL, which
//   with a header is also the kernel refusing it: tun_get_user checks it as
//   virtio_net_hdr_to_skb does), drops[1] link down (EIO: the TAP is
//   administratively down; a down port drops, it does not fail).
Napi::Value TapWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FrameWriteArgs w;
  if (!ReadFrameWriteArgs(info, 2, &w)) return Napi::Value();
  const BatchView& batch = w.batch;
  struct iovec iov[2];
  iov[0].iov_base = const_cast<uint8_t*>(kZeroVnetHeader);
  iov[0].iov_len = w.headerless ? static_cast<size_t>(w.vnetHeaderLength) : 0;
  uint32_t taken = 0;
  if (w.n > 0) MarkStage(kStageTapWriteStart, w.fd, w.n);
  while (taken < w.n) {
    uint32_t slot = w.slots[taken];
    const uint8_t* src = batch.data + static_cast<size_t>(slot) * batch.slotSize + batch.offsets[slot];
    uint32_t len = batch.lengths[slot];
    if (len < w.shortest) {
      w.drops[0] += 1;
      taken++;
      continue;
    }
    iov[1].iov_base = const_cast<uint8_t*>(src);
    iov[1].iov_len = len;
    ssize_t written = w.headerless ? writev(w.fd, iov, 2) : write(w.fd, src, len);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == EIO) {
        w.drops[1] += 1;
        taken++;
        continue;
      }
      if (errno == EINVAL || errno == EMSGSIZE || errno == EFAULT || errno == ENOMEM || errno == ENOBUFS) {
        w.drops[0] += 1;
        taken++;
        continue;
      }
      if (taken > 0) break;
      return ThrowErrno(env, "write", errno);
    }
    taken++;
  }
  if (w.n > 0) MarkStage(kStageTapWrite, w.fd, taken);
  return Napi::Number::New(env, taken);
}

// tapSetOffload(fd, mask) -> 0, or the errno of TUNSETOFFLOAD's refusal
//   (EINVAL: a flag this kernel does not know, or one it takes only with
//   another — TSO without CSUM, USO4 without USO6). Never throws for a
//   refusal: refusals are what the negotiation (src/tap-offloads.ts) reports.
Napi::Value TapSetOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, mask;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &mask)) return Napi::Value();
  if (mask < 0) return ThrowRange(env, "tapSetOffload: mask must be >= 0");
  if (ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(mask)) == 0) return Napi::Number::New(env, 0);
  int err = errno;
  if (err == EBADF || err == EBADFD) return ThrowErrno(env, "TUNSETOFFLOAD", err);
  return Napi::Number::New(env, err);
}

}  // namespace dvs
