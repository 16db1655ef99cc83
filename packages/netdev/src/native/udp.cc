// UDP tunnel sockets: IPv4/IPv6 (dual stack on '::'), non-blocking, batched
// with sendmmsg (each packet to its own destination from the batch's per-slot
// metadata) and recvmmsg (source address per packet). One N-API crossing and
// usually one syscall per batch.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"
#include "loop-spin.h"
#include "stage-trace.h"
#include "native.h"

namespace dvs {

namespace {

constexpr uint32_t kMaxBatch = 1024;
// UDP GSO limits: the kernel's UDP_MAX_SEGMENTS was 64 before 6.9, and one
// message must fit an IP packet (65535 minus IPv6 + UDP headers, IPv4's too).
constexpr uint32_t kMaxGsoSegments = 64;
constexpr uint32_t kMaxGsoBytes = 65535 - 40 - 8;
// udpSend's gso[0].
constexpr double kGsoUntried = 0;
constexpr double kGsoWorks = 1;
constexpr double kGsoDisabled = 2;

// Scratch for one batch; the addon runs on the JS thread of its environment
// (thread_local keeps worker threads apart).
struct MessageScratch {
  struct mmsghdr msgs[kMaxBatch];
  struct iovec iovs[kMaxBatch];
  struct sockaddr_in6 addrs[kMaxBatch];
  uint32_t slotOf[kMaxBatch];  // send: position in slots[] of a message's first slot
  uint32_t segsOf[kMaxBatch];  // send: slots (GSO segments) in a message
  int fdOf[kMaxBatch];         // send: the socket a message goes out of (its source port)
  alignas(struct cmsghdr) uint8_t control[kMaxBatch][CMSG_SPACE(sizeof(uint16_t))];  // send: UDP_SEGMENT
  alignas(struct cmsghdr) uint8_t groControl[kMaxBatch][CMSG_SPACE(sizeof(int))];      // recv: UDP_GRO
};
thread_local MessageScratch* scratch = nullptr;

MessageScratch* Scratch() {
  if (scratch == nullptr) scratch = new MessageScratch();
  return scratch;
}

bool IsDroppableSendError(int err) {
  return err == EINVAL || err == EMSGSIZE || err == ENETUNREACH || err == EHOSTUNREACH || err == ENETDOWN ||
         err == EACCES || err == EPERM || err == EAFNOSUPPORT || err == EADDRNOTAVAIL || err == ECONNREFUSED || err == EDESTADDRREQ ||
         err == ENOBUFS || err == ENOMEM;
}

const uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

// udpOpen(family 4|6, address: Uint8Array(4|16), port, recvBufferSize, sendBufferSize, dualStack[, reusePort])
//   -> { fd, port }. reusePort (SO_REUSEPORT) is for the source-port pool: its
//   sockets only send, and two pools (one per encap) may share a range.
Napi::Value UdpOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t family, port, rcvbuf, sndbuf;
  if (!ReadInt(info, 0, &family) || !ReadInt(info, 2, &port) || !ReadInt(info, 3, &rcvbuf) ||
      !ReadInt(info, 4, &sndbuf)) {
    return Napi::Value();
  }
  if ((family != 4 && family != 6) || port < 0 || port > 65535) return ThrowRange(env, "bad family or port");
  const uint8_t* address = ReadBytes(info, 1, family == 4 ? 4 : 16);
  if (address == nullptr) return Napi::Value();
  bool dualStack = info.Length() > 5 && info[5].ToBoolean().Value();
  bool reusePort = info.Length() > 6 && info[6].ToBoolean().Value();
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    return ThrowErrno(env, what, err);
  };
  if (family == 6) {
    int v6only = dualStack ? 0 : 1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) return fail("IPV6_V6ONLY");
  }
  int one = 1;
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return fail("SO_REUSEPORT");
  // The *FORCE variants pass rmem_max/wmem_max when we have CAP_NET_ADMIN.
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
    return fail("SO_RCVBUF");
  }
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0) {
    return fail("SO_SNDBUF");
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (family == 4) {
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    memcpy(&sin->sin_addr, address, 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, address, 16);
    len = sizeof *sin6;
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) != 0) return fail("bind");
  len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) return fail("getsockname");
  int bound = family == 4 ? ntohs(reinterpret_cast<struct sockaddr_in*>(&ss)->sin_port)
                          : ntohs(reinterpret_cast<struct sockaddr_in6*>(&ss)->sin6_port);
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("port", Napi::Number::New(env, bound));
  return result;
}

// udpEnableGro(fd) -> 0, or the errno with which the kernel refused UDP_GRO
//   (Linux >= 5.0). With it on, the kernel hands one flow's consecutive
//   datagrams of one size (a UDP GSO message sent over loopback or veth, or
//   what a NIC's GRO glued) to recvmsg as ONE super-datagram with their size
//   in a UDP_GRO cmsg, up to 64 KiB: udpRecv reports that size per slot.
Napi::Value UdpEnableGro(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd)) return Napi::Value();
  int one = 1;
  int err = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0 ? 0 : errno;
  return Napi::Number::New(env, err);
}

// udpRecv(fd, buffer, slotSize, capacity, offsets, lengths, headroom, family, ipv4, ipv6, port, drops[, segmentSize])
//   -> messages received; messages longer than slotSize - headroom are
//   dropped (MSG_TRUNC) and counted in drops[0].
//   segmentSize (optional Uint16Array, capacity long): set for every slot
//   filled: 0 for one datagram, or the datagram size of a super-datagram
//   (several datagrams back to back, the last may be shorter) that UDP_GRO
//   made; drops[1] (when drops has 2 elements) counts those super-datagrams.
Napi::Value UdpRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  BatchView batch;
  uint32_t headroom;
  if (!ReadInt(info, 0, &fd) || !ReadBatchWithHeadroom(info, 1, &batch, &headroom)) return Napi::Value();
  AddressView addr;
  if (!ReadAddressView(info, 7, batch.capacity, &addr)) return Napi::Value();
  double* drops = ReadCounter(info, 11);
  if (drops == nullptr) return Napi::Value();
  double* superDatagrams = info[11].As<Napi::TypedArray>().ElementLength() >= 2 ? drops + 1 : nullptr;
  uint16_t* segmentSize = nullptr;
  if (info.Length() > 12 && !info[12].IsUndefined()) {
    segmentSize = ReadU16(info, 12, batch.capacity);
    if (segmentSize == nullptr) return Napi::Value();
  }
  MessageScratch* s = Scratch();
  const size_t room = batch.slotSize - headroom;
  uint32_t n = 0;
  // Bounded even when datagrams keep being dropped, so one call never starves the loop.
  for (int calls = 0; n < batch.capacity && calls < 4; calls++) {
    uint32_t want = batch.capacity - n;
    for (uint32_t k = 0; k < want; k++) {
      s->iovs[k].iov_base = batch.data + static_cast<size_t>(n + k) * batch.slotSize + headroom;
      s->iovs[k].iov_len = room;
      memset(&s->msgs[k].msg_hdr, 0, sizeof s->msgs[k].msg_hdr);
      s->msgs[k].msg_hdr.msg_iov = &s->iovs[k];
      s->msgs[k].msg_hdr.msg_iovlen = 1;
      s->msgs[k].msg_hdr.msg_name = &s->addrs[k];
      s->msgs[k].msg_hdr.msg_namelen = sizeof s->addrs[k];
      if (segmentSize != nullptr) {
        s->msgs[k].msg_hdr.msg_control = s->groControl[k];
        s->msgs[k].msg_hdr.msg_controllen = sizeof s->groControl[k];
      }
    }
    int got = recvmmsg(fd, s->msgs, want, MSG_DONTWAIT, nullptr);
    if (got < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) continue;
      if (errno == EAGAIN) break;
      if (n > 0) break;
      return ThrowErrno(env, "recvmmsg", errno);
    }
    uint32_t kept = n;
    for (int k = 0; k < got; k++) {
      if (s->msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
        drops[0] += 1;
        continue;
      }
      uint32_t slot = kept;
      if (slot != n + static_cast<uint32_t>(k)) {  // close the gap a dropped datagram left
        memmove(batch.data + static_cast<size_t>(slot) * batch.slotSize + headroom,
                batch.data + static_cast<size_t>(n + k) * batch.slotSize + headroom, s->msgs[k].msg_len);
      }
      batch.offsets[slot] = headroom;
      batch.lengths[slot] = s->msgs[k].msg_len;
      if (segmentSize != nullptr) {
        int gso = 0;
        struct msghdr* h = &s->msgs[k].msg_hdr;
        for (struct cmsghdr* cm = CMSG_FIRSTHDR(h); cm != nullptr; cm = CMSG_NXTHDR(h, cm)) {
          if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(&gso, CMSG_DATA(cm), sizeof gso);
          }
        }
        const bool glued = gso > 0 && static_cast<uint32_t>(gso) < s->msgs[k].msg_len;
        segmentSize[slot] = glued ? static_cast<uint16_t>(gso) : 0;
        if (glued && superDatagrams != nullptr) *superDatagrams += 1;
      }
      const struct sockaddr* sa = reinterpret_cast<const struct sockaddr*>(&s->addrs[k]);
      if (sa->sa_family == AF_INET) {
        auto* sin = reinterpret_cast<const struct sockaddr_in*>(sa);
        addr.family[slot] = 4;
        addr.ipv4[slot] = ntohl(sin->sin_addr.s_addr);
        addr.port[slot] = ntohs(sin->sin_port);
      } else {
        auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(sa);
        const uint8_t* a = sin6->sin6_addr.s6_addr;
        if (memcmp(a, kV4MappedPrefix, 12) == 0) {
          addr.family[slot] = 4;
          addr.ipv4[slot] = (uint32_t(a[12]) << 24) | (uint32_t(a[13]) << 16) | (uint32_t(a[14]) << 8) | a[15];
        } else {
          addr.family[slot] = 6;
          memcpy(addr.ipv6 + static_cast<size_t>(slot) * 16, a, 16);
        }
        addr.port[slot] = ntohs(sin6->sin6_port);
      }
      kept++;
    }
    n = kept;
    if (static_cast<uint32_t>(got) < want) break;
  }
  NoteFramesReceived(n);
  if (n > 0) MarkStage(kStageRecvDone, fd, n);
  return Napi::Number::New(env, n);
}

// udpSend(fd, buffer, slotSize, capacity, offsets, lengths, slots, n, family, ipv4, ipv6, port,
//         socketFamily 4|6, drops[, gso]) -> slots consumed from the front (sent, or
//   dropped as invalid and counted in drops[0]); stops at EAGAIN.
//   drops is a Float64Array; when it is long enough the kernel's refusals are
//   also reported, because a datagram dropped for ENETUNREACH must not look
//   sent to a caller that asks why (tunnel health's `no route`):
//     drops[1]      errno of the last datagram the kernel refused (0: none);
//                   the caller zeroes it before the call
//     drops[2 + e]  datagrams refused with errno e (e < length - 2)
//   gso (optional Float64Array(2), the socket's own, kept across calls) turns
//   on UDP GSO: a run of consecutive listed slots to one destination with one
//   length (the last may be shorter) goes as ONE message with an iovec per
//   slot and a UDP_SEGMENT cmsg; the kernel cuts it into the same datagrams.
//     gso[0]  kGsoUntried / kGsoWorks / kGsoDisabled (the kernel refused
//             UDP_SEGMENT on first use: plain datagrams from then on)
//     gso[1]  GSO messages the kernel took (cumulative)
//   Without gso every datagram is its own message (as before GSO).
//   sourcePort, poolFds, poolPorts (optional, together: the batch's
//   sourcePort array and the socket's source-port pool, RFC 7348 §5): a slot
//   whose sourcePort is not 0 goes out of the pool socket bound to that port
//   (one not in the pool is invalid: dropped and counted); 0 is this socket.
//   Messages to one socket in a row share one sendmmsg.
Napi::Value UdpSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, socketFamily;
  BatchView batch;
  if (!ReadInt(info, 0, &fd) || !ReadBatchView(info, 1, &batch)) return Napi::Value();
  const uint32_t* slots;
  uint32_t n;
  if (!ReadSlotList(info, 6, batch, &slots, &n)) return Napi::Value();
  AddressView addr;
  if (!ReadAddressView(info, 8, batch.capacity, &addr) || !ReadInt(info, 12, &socketFamily)) return Napi::Value();
  double* drops = ReadCounter(info, 13);
  if (drops == nullptr) return Napi::Value();
  const size_t dropSlots = info[13].As<Napi::TypedArray>().ElementLength();
  double* gso = nullptr;
  if (info.Length() > 14 && !info[14].IsUndefined()) {
    gso = ReadCounter(info, 14, 2);
    if (gso == nullptr) return Napi::Value();
  }
  const bool coalesce = gso != nullptr && gso[0] != kGsoDisabled;
  uint16_t* sourcePort = nullptr;
  int32_t* poolFds = nullptr;
  uint16_t* poolPorts = nullptr;
  size_t poolSize = 0;
  if (info.Length() > 17 && !info[15].IsUndefined()) {
    sourcePort = ReadU16(info, 15, batch.capacity);
    if (sourcePort == nullptr) return Napi::Value();
    poolSize = info[16].IsTypedArray() ? info[16].As<Napi::TypedArray>().ElementLength() : 0;
    poolFds = ReadI32(info, 16, poolSize);
    if (poolFds == nullptr) return Napi::Value();
    poolPorts = ReadU16(info, 17, poolSize);
    if (poolPorts == nullptr) return Napi::Value();
  }
  // The socket slot `slot` leaves by: this one, a pool socket, or -1 (no such source port).
  uint16_t lastPort = 0;
  int lastFd = fd;
  auto socketOf = [&](uint32_t slot) {
    uint16_t sp = sourcePort == nullptr ? 0 : sourcePort[slot];
    if (sp == 0) return fd;
    if (sp == lastPort) return lastFd;
    for (size_t k = 0; k < poolSize; k++) {
      if (poolPorts[k] != sp) continue;
      lastPort = sp;
      lastFd = poolFds[k];
      return lastFd;
    }
    return -1;
  };
  auto refused = [&](int err) {
    drops[0] += 1;
    if (dropSlots < 2) return;
    drops[1] = err;
    if (static_cast<size_t>(err) + 2 < dropSlots) drops[2 + err] += 1;
  };
  MessageScratch* s = Scratch();
  if (n > kMaxBatch) n = kMaxBatch;

  // Build one message per run of valid slots (one slot per message without
  // GSO); slotOf maps a message back to the position of its first slot in
  // slots[] and segsOf says how many follow, so "consumed from the front"
  // stays exact. Invalid slots end a run.
  auto valid = [&](uint32_t slot) {
    uint8_t fam = addr.family[slot];
    return (fam == 4 || fam == 6) && addr.port[slot] != 0 && !(socketFamily == 4 && fam == 6) && socketOf(slot) >= 0;
  };
  auto sameDestination = [&](uint32_t a, uint32_t b) {
    if (addr.family[a] != addr.family[b] || addr.port[a] != addr.port[b]) return false;
    if (addr.family[a] == 4) return addr.ipv4[a] == addr.ipv4[b];
    return memcmp(addr.ipv6 + static_cast<size_t>(a) * 16, addr.ipv6 + static_cast<size_t>(b) * 16, 16) == 0;
  };
  uint32_t count = 0;
  uint32_t iovCount = 0;
  bool runOpen = false;  // the last message may take more segments
  uint32_t runSlot = 0, runSize = 0, runBytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t slot = slots[i];
    if (!valid(slot)) {
      runOpen = false;
      continue;
    }
    const uint32_t length = batch.lengths[slot];
    struct iovec* iov = &s->iovs[iovCount++];
    iov->iov_base = batch.data + static_cast<size_t>(slot) * batch.slotSize + batch.offsets[slot];
    iov->iov_len = length;
    if (runOpen && length > 0 && length <= runSize && s->segsOf[count - 1] < kMaxGsoSegments &&
        runBytes + length <= kMaxGsoBytes && sameDestination(runSlot, slot) && socketOf(slot) == s->fdOf[count - 1]) {
      struct mmsghdr* m = &s->msgs[count - 1];
      if (s->segsOf[count - 1]++ == 1) {
        m->msg_hdr.msg_control = s->control[count - 1];
        m->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        struct cmsghdr* cm = CMSG_FIRSTHDR(&m->msg_hdr);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t size = static_cast<uint16_t>(runSize);
        memcpy(CMSG_DATA(cm), &size, sizeof size);
      }
      m->msg_hdr.msg_iovlen++;
      runBytes += length;
      if (length < runSize) runOpen = false;  // a shorter segment ends the run
      continue;
    }
    uint8_t fam = addr.family[slot];
    uint16_t port = addr.port[slot];
    struct sockaddr_in6* sa = &s->addrs[count];
    memset(sa, 0, sizeof *sa);
    socklen_t salen;
    if (socketFamily == 4) {
      auto* sin = reinterpret_cast<struct sockaddr_in*>(sa);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr.s_addr = htonl(addr.ipv4[slot]);
      salen = sizeof *sin;
    } else {
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(port);
      if (fam == 6) {
        memcpy(sa->sin6_addr.s6_addr, addr.ipv6 + static_cast<size_t>(slot) * 16, 16);
      } else {
        uint32_t v4 = addr.ipv4[slot];
        memcpy(sa->sin6_addr.s6_addr, kV4MappedPrefix, 12);
        sa->sin6_addr.s6_addr[12] = v4 >> 24;
        sa->sin6_addr.s6_addr[13] = (v4 >> 16) & 0xff;
        sa->sin6_addr.s6_addr[14] = (v4 >> 8) & 0xff;
        sa->sin6_addr.s6_addr[15] = v4 & 0xff;
      }
      salen = sizeof *sa;
    }
    memset(&s->msgs[count].msg_hdr, 0, sizeof s->msgs[count].msg_hdr);
    s->msgs[count].msg_hdr.msg_name = sa;
    s->msgs[count].msg_hdr.msg_namelen = salen;
    s->msgs[count].msg_hdr.msg_iov = iov;
    s->msgs[count].msg_hdr.msg_iovlen = 1;
    s->slotOf[count] = i;
    s->segsOf[count] = 1;
    s->fdOf[count] = socketOf(slot);
    count++;
    runOpen = coalesce && length > 0;
    runSlot = slot;
    runSize = length;
    runBytes = length;
  }

  // A GSO message the kernel refused is sent again one datagram per segment,
  // so each datagram is accounted for by its own errno exactly as without GSO.
  // Returns false at EAGAIN or a hard error (after *sentSegs segments); throws
  // through *thrown when nothing at all was consumed yet.
  uint32_t partial = UINT32_MAX;  // slots[] position where a split message stopped
  auto sendSegments = [&](uint32_t msg, bool first, bool* thrown, int* hardErr) {
    const struct msghdr& whole = s->msgs[msg].msg_hdr;
    for (uint32_t j = 0; j < s->segsOf[msg];) {
      struct msghdr one;
      memset(&one, 0, sizeof one);
      one.msg_name = whole.msg_name;
      one.msg_namelen = whole.msg_namelen;
      one.msg_iov = whole.msg_iov + j;
      one.msg_iovlen = 1;
      if (sendmsg(s->fdOf[msg], &one, MSG_DONTWAIT) >= 0) {
        j++;
        continue;
      }
      int err = errno;
      if (err == EINTR) continue;
      if (IsDroppableSendError(err)) {
        refused(err);
        j++;
        continue;
      }
      if (err != EAGAIN && first && j == 0) {
        *thrown = true;
        *hardErr = err;
      }
      partial = s->slotOf[msg] + j;
      return false;
    }
    return true;
  };

  uint32_t done = 0;  // messages sent or dropped
  if (count > 0) MarkStage(kStageSendStart, fd, n);
  while (done < count) {
    uint32_t same = 1;  // messages in a row out of one socket
    while (done + same < count && s->fdOf[done + same] == s->fdOf[done]) same++;
    int sent = sendmmsg(s->fdOf[done], s->msgs + done, same, MSG_DONTWAIT);
    if (sent < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN) break;
      if (s->segsOf[done] > 1 && (IsDroppableSendError(err) || err == EIO || err == ENOPROTOOPT)) {
        if (gso[0] == kGsoUntried && (err == EINVAL || err == EIO || err == ENOPROTOOPT)) gso[0] = kGsoDisabled;
        bool thrown = false;
        int hardErr = 0;
        if (!sendSegments(done, done == 0, &thrown, &hardErr)) {
          if (thrown) return ThrowErrno(env, "sendmsg", hardErr);
          break;
        }
        done++;
        continue;
      }
      if (IsDroppableSendError(err)) {
        refused(err);
        done++;
        continue;
      }
      if (done > 0) break;
      return ThrowErrno(env, "sendmmsg", err);
    }
    if (gso != nullptr) {
      for (uint32_t k = done; k < done + static_cast<uint32_t>(sent); k++) {
        if (s->segsOf[k] < 2) continue;
        gso[1] += 1;
        if (gso[0] == kGsoUntried) gso[0] = kGsoWorks;
      }
    }
    done += static_cast<uint32_t>(sent);
  }
  if (count > 0) MarkStage(kStageSendDone, fd, done);
  // A message the kernel took counts all its segments (UDP takes a message
  // whole); one it did not take counts none of them.
  uint32_t taken = partial != UINT32_MAX ? partial : done == count ? n : s->slotOf[done];
  // Invalid slots count as dropped only once consumed (before the EAGAIN point).
  for (uint32_t i = 0; i < taken; i++) {
    if (!valid(slots[i])) drops[0] += 1;
  }
  return Napi::Number::New(env, taken);
}

}  // namespace dvs
