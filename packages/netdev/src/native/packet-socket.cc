// AF_PACKET sockets bound to one interface: the "wire side" of a TAP for the
// compliance suite and the benchmark's traffic generator. Not part of the data
// path. Frames sent here are transmitted out of the interface (so a TAP's
// reader gets them); frames a TAP's writer injects are received here (frames
// the kernel itself transmits, PACKET_OUTGOING, are skipped).
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"
#include "native.h"

namespace dvs {

// packetOpen(ifname) -> fd (non-blocking, bound to the interface, ETH_P_ALL)
Napi::Value PacketOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowRange(env, "packetOpen(ifname)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) return ThrowErrno(env, "if_nametoindex", errno);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return ThrowErrno(env, "socket(AF_PACKET)", errno);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(index);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) != 0) {
    int err = errno;
    ::close(fd);
    return ThrowErrno(env, "bind(AF_PACKET)", err);
  }
  return Napi::Number::New(env, fd);
}

// packetRecv(fd, buffer, slotSize, capacity, offsets, lengths, headroom) -> frames
Napi::Value PacketRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, headroomArg;
  BatchView batch;
  if (!ReadInt(info, 0, &fd) || !ReadBatchView(info, 1, &batch) || !ReadInt(info, 6, &headroomArg)) {
    return Napi::Value();
  }
  if (headroomArg < 0 || static_cast<uint32_t>(headroomArg) >= batch.slotSize) {
    return ThrowRange(env, "headroom must be < slotSize");
  }
  const uint32_t headroom = static_cast<uint32_t>(headroomArg);
  uint32_t n = 0;
  int pendingErrors = 0;
  while (n < batch.capacity) {
    struct sockaddr_ll from;
    socklen_t fromLen = sizeof from;
    uint8_t* dst = batch.data + static_cast<size_t>(n) * batch.slotSize + headroom;
    ssize_t r = recvfrom(fd, dst, batch.slotSize - headroom, MSG_DONTWAIT | MSG_TRUNC,
                         reinterpret_cast<struct sockaddr*>(&from), &fromLen);
    if (r < 0) {
      if (errno == EINTR) continue;
      // The link went down (or up) since the last call: the socket reports it
      // once (ENETDOWN); that is news, not a failure of this read.
      if (errno == ENETDOWN && pendingErrors++ < 4) continue;
      if (errno == EAGAIN || n > 0) break;
      return ThrowErrno(env, "recvfrom(AF_PACKET)", errno);
    }
    if (from.sll_pkttype == PACKET_OUTGOING || static_cast<size_t>(r) > batch.slotSize - headroom) continue;
    batch.offsets[n] = headroom;
    batch.lengths[n] = static_cast<uint32_t>(r);
    n++;
  }
  return Napi::Number::New(env, n);
}

// packetSend(fd, buffer, slotSize, capacity, offsets, lengths, slots, n) -> frames sent (stops at EAGAIN)
Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  BatchView batch;
  if (!ReadInt(info, 0, &fd) || !ReadBatchView(info, 1, &batch)) return Napi::Value();
  const uint32_t* slots;
  uint32_t n;
  if (!ReadSlotList(info, 6, batch, &slots, &n)) return Napi::Value();
  if (n > 1024) n = 1024;
  struct mmsghdr msgs[1024];
  struct iovec iovs[1024];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t slot = slots[i];
    iovs[i].iov_base = batch.data + static_cast<size_t>(slot) * batch.slotSize + batch.offsets[slot];
    iovs[i].iov_len = batch.lengths[slot];
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint32_t done = 0;
  while (done < n) {
    int sent = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == ENOBUFS || done > 0) break;
      return ThrowErrno(env, "sendmmsg(AF_PACKET)", errno);
    }
    done += static_cast<uint32_t>(sent);
  }
  return Napi::Number::New(env, done);
}

}  // namespace dvs
