// AF_PACKET sockets bound to one interface: the "wire side" of a TAP for the
// compliance suite and the benchmark's traffic generator. Not part of the data
// path. Frames sent here are transmitted out of the interface (so a TAP's
// reader gets them); frames a TAP's writer injects are received here (frames
// the kernel itself transmits, PACKET_OUTGOING, are skipped). Received frames
// carry their 802.1Q tag in place even when the kernel offloaded it.
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
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0 ||
      bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) != 0) {
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
  const size_t room = batch.slotSize - headroom;
  uint32_t n = 0;
  int pendingErrors = 0;
  while (n < batch.capacity) {
    struct sockaddr_ll from;
    uint8_t* dst = batch.data + static_cast<size_t>(n) * batch.slotSize + headroom;
    struct iovec iov = {dst, room};
    alignas(struct cmsghdr) uint8_t control[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
    if (r < 0) {
      if (errno == EINTR) continue;
      // The link went down (or up) since the last call: the socket reports it
      // once (ENETDOWN); that is news, not a failure of this read.
      if (errno == ENETDOWN && pendingErrors++ < 4) continue;
      if (errno == EAGAIN || n > 0) break;
      return ThrowErrno(env, "recvmsg(AF_PACKET)", errno);
    }
    if (from.sll_pkttype == PACKET_OUTGOING || static_cast<size_t>(r) > room) continue;
    // The receive path may have moved an 802.1Q tag into metadata (VLAN
    // offload); put it back where it was on the wire, as libpcap does.
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
      struct tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if ((aux.tp_status & TP_STATUS_VLAN_VALID) == 0 || r < 12) continue;
      if (static_cast<size_t>(r) + 4 > room) {
        r = -1;  // no room for the tag: drop rather than return a frame that lost it
        break;
      }
      uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
      memmove(dst + 16, dst + 12, static_cast<size_t>(r) - 12);
      dst[12] = tpid >> 8;
      dst[13] = tpid & 0xff;
      dst[14] = aux.tp_vlan_tci >> 8;
      dst[15] = aux.tp_vlan_tci & 0xff;
      r += 4;
    }
    if (r < 0) continue;
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
