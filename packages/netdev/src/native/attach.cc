// Attached devices: an AF_PACKET socket bound to an existing interface (a TAP
// that QEMU holds, a veth end, a macvlan, a NIC), the way a kernel bridge port
// or an Open vSwitch "system" port sees its device.
//
//  - bound to the ifindex with ETH_P_ALL only after every option is set, so no
//    frame of another interface is ever queued;
//  - PACKET_IGNORE_OUTGOING: frames transmitted on the device (ours, and the
//    host's own) are never read back (no echo);
//  - PACKET_ADD_MEMBERSHIP PACKET_MR_PROMISC: the device accepts frames for
//    any MAC, as a bridge port does;
//  - optional PACKET_QDISC_BYPASS (writes skip the device's qdisc) and a
//    TPACKET_V3 receive ring (packet-ring.cc); without the ring, reads are
//    recvmmsg with PACKET_AUXDATA, writes are always sendmmsg;
//  - 802.1Q tags the receive path moved into metadata are put back in the
//    frame (see RestoreVlanTag).
#include "attach.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common.h"
#include "loop-spin.h"
#include "native.h"

namespace dvs {

namespace {

constexpr uint32_t kMaxBatch = 1024;
constexpr uint32_t kMacPair = 12;
constexpr uint8_t kVirtioNetHdrNeedsCsum = 1;
// sizeof(struct virtio_net_hdr): the header PACKET_VNET_HDR puts in front of every frame.
constexpr int32_t kVirtioNetHdrLength = 10;

struct Scratch {
  struct mmsghdr msgs[kMaxBatch];
  struct iovec iovs[kMaxBatch];
  struct iovec headerless[kMaxBatch][2];  // send: an all-zero virtio-net header, then the frame
  alignas(struct cmsghdr) uint8_t control[kMaxBatch][CMSG_SPACE(sizeof(struct tpacket_auxdata))];
};
thread_local Scratch* scratch = nullptr;

Scratch* GetScratch() {
  if (scratch == nullptr) scratch = new Scratch();
  return scratch;
}

bool SetInt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

int32_t ReadIntOption(const Napi::Object& options, const char* key) {
  Napi::Value v = options.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
}

}  // namespace

int32_t RestoreVlanTag(uint8_t* slot, uint32_t headroom, uint32_t room, uint32_t length, uint16_t tpid,
                       uint16_t tci, uint32_t vnetHeaderLength) {
  uint8_t* data = slot + headroom;
  const uint32_t before = vnetHeaderLength + kMacPair;  // what stays in front of the tag
  if (length < before) return -1;
  uint8_t* tag;
  int32_t start;
  if (headroom >= 4) {
    // Move the header and the two MAC addresses 4 bytes back into the
    // headroom: 12 (or 22) bytes moved instead of the whole payload.
    memmove(data - 4, data, before);
    tag = data - 4 + before;
    start = static_cast<int32_t>(headroom) - 4;
  } else {
    if (length + 4 > room) return -1;
    memmove(data + before + 4, data + before, length - before);
    tag = data + before;
    start = static_cast<int32_t>(headroom);
  }
  tag[0] = tpid >> 8;
  tag[1] = tpid & 0xff;
  tag[2] = tci >> 8;
  tag[3] = tci & 0xff;
  if (vnetHeaderLength > 0) {
    uint8_t* h = slot + start;
    auto grow = [](uint8_t* field) {
      uint16_t v = static_cast<uint16_t>(field[0] | (field[1] << 8)) + 4;
      field[0] = v & 0xff;
      field[1] = v >> 8;
    };
    if (h[0] & kVirtioNetHdrNeedsCsum) grow(h + 6);  // csum_start
    if ((h[2] | h[3]) != 0) grow(h + 2);             // hdr_len
  }
  return start;
}

// attachOpen({ ifindex, ringVersion: 2|3, ringBlockSize, ringBlockCount, ringFrameSize, qdiscBypass,
//              promiscuous, receiveBufferBytes, up, vnetHeader })
//   -> { fd, vnetHeaderErrno }. ringBlockCount 0: no ring (recvmmsg). The
//   ring itself is mapped by new PacketRing(fd, version, blockSize,
//   blockCount, frameSize) afterwards. vnetHeader: PACKET_VNET_HDR (recvmmsg
//   only), every frame read and sent behind a 10-byte virtio-net header;
//   vnetHeaderErrno is the errno when the kernel refused it (0: taken).
Napi::Value AttachOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return ThrowRange(env, "attachOpen(options)");
  Napi::Object options = info[0].As<Napi::Object>();
  int32_t ifindex = ReadIntOption(options, "ifindex");
  int32_t blockSize = ReadIntOption(options, "ringBlockSize");
  int32_t blockCount = ReadIntOption(options, "ringBlockCount");
  int32_t ringVersion = ReadIntOption(options, "ringVersion");
  int32_t frameSize = ReadIntOption(options, "ringFrameSize");
  int32_t receiveBuffer = ReadIntOption(options, "receiveBufferBytes");
  bool bypass = options.Get("qdiscBypass").ToBoolean().Value();
  bool promiscuous = options.Get("promiscuous").ToBoolean().Value();
  bool up = options.Get("up").ToBoolean().Value();
  bool vnetHeader = options.Get("vnetHeader").ToBoolean().Value();
  if (ifindex <= 0) return ThrowRange(env, "attachOpen: ifindex must be > 0");
  if (blockCount > 0 && ((ringVersion != 2 && ringVersion != 3) || frameSize <= 0 || blockSize <= 0)) {
    return ThrowRange(env, "attachOpen: a ring needs ringVersion 2|3, ringBlockSize and ringFrameSize");
  }
  if (blockCount > 0 && vnetHeader) return ThrowRange(env, "attachOpen: a virtio-net header needs recvmmsg, not a ring");

  // Protocol 0: the socket receives nothing until bind() names the device.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket(AF_PACKET)", errno);
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    return ThrowErrno(env, what, err);
  };
  if (!SetInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) return fail("PACKET_IGNORE_OUTGOING");
  // A refusal is no error: the device then reads and writes plain frames, and
  // says so (vnetHeaderErrno; see src/attached-device.ts).
  int vnetHeaderErrno = 0;
  if (vnetHeader && !SetInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) vnetHeaderErrno = errno;
  if (bypass && !SetInt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1)) return fail("PACKET_QDISC_BYPASS");
  if (blockCount > 0 && ringVersion == 3) {
    if (!SetInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3)) return fail("PACKET_VERSION");
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = static_cast<unsigned>(blockSize);
    req.tp_block_nr = static_cast<unsigned>(blockCount);
    req.tp_frame_size = static_cast<unsigned>(frameSize);
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    // A block is handed to us when full or after this many ms (rounded up to
    // a jiffy): the ring's latency floor at low rates.
    req.tp_retire_blk_tov = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) return fail("PACKET_RX_RING");
  } else if (blockCount > 0) {
    if (!SetInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)) return fail("PACKET_VERSION");
    struct tpacket_req req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = static_cast<unsigned>(blockSize);
    req.tp_block_nr = static_cast<unsigned>(blockCount);
    req.tp_frame_size = static_cast<unsigned>(frameSize);
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) return fail("PACKET_RX_RING");
  } else {
    if (!SetInt(fd, SOL_PACKET, PACKET_AUXDATA, 1)) return fail("PACKET_AUXDATA");
    if (receiveBuffer > 0 && !SetInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, receiveBuffer) &&
        !SetInt(fd, SOL_SOCKET, SO_RCVBUF, receiveBuffer)) {
      return fail("SO_RCVBUF");
    }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) != 0) return fail("bind(AF_PACKET)");
  if (promiscuous) {
    struct packet_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
      return fail("PACKET_ADD_MEMBERSHIP");
    }
  }
  if (up) {
    // Interface ioctls on the packet socket resolve in its own namespace.
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = ifindex;
    if (ioctl(fd, SIOCGIFNAME, &ifr) != 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return fail("SIOCGIFFLAGS");
    if ((ifr.ifr_flags & IFF_UP) == 0) {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) return fail("SIOCSIFFLAGS");
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("vnetHeaderErrno", Napi::Number::New(env, vnetHeaderErrno));
  return result;
}

// attachRecv(fd, buffer, slotSize, capacity, offsets, lengths, headroom, family, out: Float64Array[3|4],
//            vnetHeaderLength = 0)
//   -> frames read (recvmmsg). out[0] += frames too big for the slot (dropped),
//   out[1] = 1 when the socket reported a pending error (the link went down
//   or away: ask attachStatus), out[2] += 802.1Q tags put back. With a
//   virtio-net header (PACKET_VNET_HDR) each frame comes behind it (lengths
//   count it), and out[3] += frames the kernel could not describe with one
//   (EINVAL: a GSO type the header has no word for; the kernel drops them).
Napi::Value AttachRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  BatchView batch;
  uint32_t headroom;
  if (!ReadInt(info, 0, &fd) || !ReadBatchWithHeadroom(info, 1, &batch, &headroom)) return Napi::Value();
  int32_t vnetHeaderLength = 0;
  if (info.Length() > 9 && !ReadInt(info, 9, &vnetHeaderLength)) return Napi::Value();
  if (vnetHeaderLength != 0 && vnetHeaderLength != kVirtioNetHdrLength) {
    return ThrowRange(env, "attachRecv: the virtio-net header is 10 bytes");
  }
  uint8_t* family = ReadBytes(info, 7, batch.capacity);
  double* out = ReadCounter(info, 8, vnetHeaderLength > 0 ? 4 : 3);
  if (family == nullptr || out == nullptr) return Napi::Value();
  const uint32_t room = batch.slotSize - headroom;
  Scratch* s = GetScratch();
  uint32_t n = 0;
  // Bounded even when every frame is dropped, so one call never starves the loop.
  for (int round = 0; n < batch.capacity && round < 4; round++) {
    const uint32_t want = batch.capacity - n;
    for (uint32_t i = 0; i < want; i++) {
      s->iovs[i].iov_base = batch.data + static_cast<size_t>(n + i) * batch.slotSize + headroom;
      s->iovs[i].iov_len = room;
      struct msghdr& m = s->msgs[i].msg_hdr;
      memset(&m, 0, sizeof m);
      m.msg_iov = &s->iovs[i];
      m.msg_iovlen = 1;
      m.msg_control = s->control[i];
      m.msg_controllen = sizeof s->control[i];
    }
    // MSG_TRUNC: msg_len is the frame's real length, so a frame that did not
    // fit is recognised and dropped rather than returned cut.
    int got = recvmmsg(fd, s->msgs, want, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == ENETDOWN || errno == ENXIO || errno == ENODEV) {
        out[1] = 1;  // the error was pending on the socket; reading it cleared it
        continue;
      }
      if (errno == EINVAL && vnetHeaderLength > 0) {
        out[3] += 1;  // that frame was dequeued and dropped: go on with the next
        continue;
      }
      if (n > 0) break;
      return ThrowErrno(env, "recvmmsg(AF_PACKET)", errno);
    }
    const uint32_t base = n;
    for (uint32_t i = 0; i < static_cast<uint32_t>(got); i++) {
      uint32_t length = s->msgs[i].msg_len;
      if (length > room) {
        out[0] += 1;
        continue;
      }
      uint8_t* slot = batch.data + static_cast<size_t>(n) * batch.slotSize;
      if (base + i != n) {
        // An earlier frame of this round was dropped: close the gap.
        memcpy(slot + headroom, batch.data + static_cast<size_t>(base + i) * batch.slotSize + headroom, length);
      }
      int32_t start = static_cast<int32_t>(headroom);
      struct msghdr& m = s->msgs[i].msg_hdr;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if ((aux.tp_status & TP_STATUS_VLAN_VALID) == 0) continue;
        uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
        start = RestoreVlanTag(slot, headroom, room, length, tpid, static_cast<uint16_t>(aux.tp_vlan_tci),
                               static_cast<uint32_t>(vnetHeaderLength));
        if (start >= 0) {
          length += 4;
          out[2] += 1;
        }
      }
      if (start < 0) {
        out[0] += 1;  // no room left for the tag: dropped rather than returned without it
        continue;
      }
      batch.offsets[n] = static_cast<uint32_t>(start);
      batch.lengths[n] = length;
      family[n] = 0;
      n++;
    }
    if (static_cast<uint32_t>(got) < want) break;
  }
  NoteFramesReceived(n);
  return Napi::Number::New(env, n);
}

// attachSend(fd, buffer, slotSize, capacity, offsets, lengths, slots, n, drops: Float64Array[4],
//            vnetHeaderLength = 0, headerless = false)
//   -> slots consumed from the front (sendmmsg). headerless (with
//   vnetHeaderLength > 0): the slots hold plain frames; each goes behind an
//   all-zero header (no flags, no GSO: the frame as it is), a second iovec. Consumed but not sent, and
//   counted: drops[0] invalid (runt: shorter than the header + 14 bytes;
//   EINVAL, which with a header is also the kernel refusing it; EMSGSIZE, any other refusal),
//   drops[1] link down (ENETDOWN; also ENXIO/ENODEV), drops[2] = 1 when the
//   device is gone (ENXIO/ENODEV: the socket's device was unregistered),
//   drops[3] queue full (ENOBUFS: the qdisc or the device dropped it).
//   Stops at EAGAIN (the socket's send buffer is full).
Napi::Value AttachSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FrameWriteArgs w;
  if (!ReadFrameWriteArgs(info, 4, &w)) return Napi::Value();
  const BatchView& batch = w.batch;
  const uint32_t* slots = w.slots;
  double* drops = w.drops;
  const uint32_t n = w.n > kMaxBatch ? kMaxBatch : w.n;
  Scratch* s = GetScratch();
  uint32_t taken = 0;
  while (taken < n) {
    // The run of sendable frames from `taken` up to the next runt.
    uint32_t run = 0;
    while (taken + run < n && batch.lengths[slots[taken + run]] >= w.shortest) {
      uint32_t slot = slots[taken + run];
      s->iovs[run].iov_base = batch.data + static_cast<size_t>(slot) * batch.slotSize + batch.offsets[slot];
      s->iovs[run].iov_len = batch.lengths[slot];
      struct msghdr& m = s->msgs[run].msg_hdr;
      memset(&m, 0, sizeof m);
      m.msg_iov = &s->iovs[run];
      m.msg_iovlen = 1;
      if (w.headerless) {
        s->headerless[run][0].iov_base = const_cast<uint8_t*>(kZeroVnetHeader);
        s->headerless[run][0].iov_len = static_cast<size_t>(w.vnetHeaderLength);
        s->headerless[run][1] = s->iovs[run];
        m.msg_iov = s->headerless[run];
        m.msg_iovlen = 2;
      }
      run++;
    }
    if (run == 0) {
      drops[0] += 1;
      taken++;
      continue;
    }
    uint32_t done = 0;
    bool stop = false;
    bool staleErrorCleared = false;
    while (done < run) {
      int sent = sendmmsg(w.fd, s->msgs + done, run - done, MSG_DONTWAIT);
      if (sent > 0) {
        done += static_cast<uint32_t>(sent);
        continue;
      }
      int err = errno;
      if (err == EINTR) continue;
      // ENETDOWN comes either from the device being down now, or from the
      // socket's pending error left by an earlier down (reported once, and
      // cleared, by the send path). Only a second ENETDOWN means down.
      if (err == ENETDOWN && !staleErrorCleared) {
        staleErrorCleared = true;
        continue;
      }
      if (err == EAGAIN) {
        stop = true;
        break;
      }
      if (err == ENETDOWN || err == ENXIO || err == ENODEV) {
        // Every remaining frame would fail the same way: drop them all now.
        if (err != ENETDOWN) drops[2] = 1;
        for (uint32_t k = taken + done; k < n; k++) drops[batch.lengths[slots[k]] < w.shortest ? 0 : 1] += 1;
        return Napi::Number::New(env, n);
      }
      drops[err == ENOBUFS ? 3 : 0] += 1;  // this one frame is dropped; go on with the next
      done++;
    }
    taken += done;
    if (stop) break;
  }
  return Napi::Number::New(env, taken);
}

// attachStatus(fd) -> { error: errno symbol or '' (SO_ERROR, which clears it), ifindex }
//   ifindex is the socket's bound device, -1 once that device was unregistered.
Napi::Value AttachStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd)) return Napi::Value();
  int soError = 0;
  socklen_t len = sizeof soError;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) != 0) return ThrowErrno(env, "SO_ERROR", errno);
  struct sockaddr_ll sll;
  socklen_t sllLen = sizeof sll;
  memset(&sll, 0, sizeof sll);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&sll), &sllLen) != 0) {
    return ThrowErrno(env, "getsockname", errno);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("error", Napi::String::New(env, soError == 0 ? "" : ErrnoName(soError)));
  result.Set("ifindex", Napi::Number::New(env, sll.sll_ifindex));
  return result;
}

// attachMtu(fd, ifindex) -> the device's MTU now, or -1 when it is gone.
Napi::Value AttachMtu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &ifindex)) return Napi::Value();
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = ifindex;
  if (ioctl(fd, SIOCGIFNAME, &ifr) != 0 || ioctl(fd, SIOCGIFMTU, &ifr) != 0) {
    if (errno == ENODEV || errno == ENXIO) return Napi::Number::New(env, -1);
    return ThrowErrno(env, "SIOCGIFMTU", errno);
  }
  return Napi::Number::New(env, ifr.ifr_mtu);
}

// attachKernelStats(fd) -> { packets, drops } since the last call
// (PACKET_STATISTICS reads and resets the kernel's counters).
Napi::Value AttachKernelStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd)) return Napi::Value();
  struct tpacket_stats_v3 st;
  memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    return ThrowErrno(env, "PACKET_STATISTICS", errno);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Number::New(env, st.tp_packets));
  result.Set("drops", Napi::Number::New(env, st.tp_drops));
  return result;
}

}  // namespace dvs
