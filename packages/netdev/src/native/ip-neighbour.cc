// IP neighbours (ARP and ND entries, AF_INET/AF_INET6) over rtnetlink, and a
// snooper of the frames that bind IPs to MACs.
//
// ipNeighApply(fd, changes) -> [{ index, errno, message }]
//   changes: [{ op: 'replace' | 'del', ifindex, family: 4 | 6, address: Buffer
//   (4 or 16 bytes), mac (48-bit number), state (NUD_*), flags (NTF_*) }],
//   one request each with NLM_F_ACK, all in one sendmsg; the refused ones are
//   returned (one refusal never stops the others).
// ipNeighDump(fd, ifindex) -> [{ family, ifindex, address, mac, state, flags }]
//   the IPv4 and IPv6 neighbours of one device (0: every device).
// snoopOpen(receiveBufferBytes) -> fd: an AF_PACKET socket on every interface
//   of this namespace whose classic BPF filter lets only ARP and ICMPv6
//   neighbour solicitations/advertisements through (nothing else wakes it),
//   and never frames this host transmits (PACKET_IGNORE_OUTGOING).
// snoopRecv(fd, buffer) -> { ifindex, length } | null: one frame into
//   `buffer` (truncated to its size) and the interface it arrived on; null
//   when none is pending.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "native.h"
#include "netlink.h"

namespace dvs {

namespace {

uint32_t NextSeq() {
  static thread_local uint32_t seq = 0x30000000;
  seq += 4097;
  return seq;
}

bool ParseIpNeigh(const struct nlmsghdr* h, Napi::Env env, Napi::Object* out) {
  if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg))) return false;
  auto* ndm = static_cast<const struct ndmsg*>(NLMSG_DATA(h));
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return false;
  std::string address;
  double mac = -1;
  auto* first = reinterpret_cast<const struct rtattr*>(reinterpret_cast<const char*>(ndm) + NLMSG_ALIGN(sizeof *ndm));
  int length = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *ndm));
  nl::ForEachAttr(first, length, [&](const struct rtattr* a) {
    if (a->rta_type == NDA_DST) address = nl::AddressText(RTA_DATA(a), RTA_PAYLOAD(a));
    if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
      auto* b = static_cast<const uint8_t*>(RTA_DATA(a));
      mac = 0;
      for (int i = 0; i < 6; i++) mac = mac * 256 + b[i];
    }
  });
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", Napi::Number::New(env, ndm->ndm_family == AF_INET ? 4 : 6));
  o.Set("ifindex", Napi::Number::New(env, ndm->ndm_ifindex));
  o.Set("address", Napi::String::New(env, address));
  o.Set("mac", Napi::Number::New(env, mac));
  o.Set("state", Napi::Number::New(env, ndm->ndm_state));
  o.Set("flags", Napi::Number::New(env, ndm->ndm_flags));
  *out = o;
  return true;
}

int32_t IntOf(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
}

}  // namespace

Napi::Value IpNeighApply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsArray()) {
    return ThrowRange(env, "ipNeighApply(fd, changes)");
  }
  Napi::Array changes = info[1].As<Napi::Array>();
  uint32_t count = changes.Length();
  Napi::Array failures = Napi::Array::New(env);
  if (count == 0) return failures;
  if (count > 4096) return ThrowRange(env, "ipNeighApply: at most 4096 changes per call");
  uint32_t seq = NextSeq();
  nl::MessageBuilder batch;
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value v = changes.Get(i);
    if (!v.IsObject()) return ThrowRange(env, "ipNeighApply: every change must be an object");
    Napi::Object c = v.As<Napi::Object>();
    Napi::Value addressValue = c.Get("address");
    if (!addressValue.IsBuffer()) return ThrowRange(env, "ipNeighApply: address must be a Buffer");
    Napi::Buffer<uint8_t> address = addressValue.As<Napi::Buffer<uint8_t>>();
    int32_t family = IntOf(c, "family");
    if ((family == 4 && address.Length() != 4) || (family == 6 && address.Length() != 16) ||
        (family != 4 && family != 6)) {
      return ThrowRange(env, "ipNeighApply: family 4 takes 4 address bytes, family 6 takes 16");
    }
    bool del = c.Get("op").ToString().Utf8Value() == "del";
    struct ndmsg ndm;
    memset(&ndm, 0, sizeof ndm);
    ndm.ndm_family = family == 4 ? AF_INET : AF_INET6;
    ndm.ndm_ifindex = IntOf(c, "ifindex");
    ndm.ndm_state = static_cast<uint16_t>(IntOf(c, "state"));
    ndm.ndm_flags = static_cast<uint8_t>(IntOf(c, "flags"));
    uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
    if (!del) flags |= NLM_F_CREATE | NLM_F_REPLACE;
    batch.Begin(del ? RTM_DELNEIGH : RTM_NEWNEIGH, flags, seq + i, &ndm, sizeof ndm);
    batch.Put(NDA_DST, address.Data(), address.Length());
    if (!del) {
      double mac = c.Get("mac").ToNumber().DoubleValue();
      uint8_t bytes[6];
      for (int b = 5; b >= 0; b--) {
        bytes[b] = static_cast<uint8_t>(static_cast<uint64_t>(mac) >> (8 * (5 - b)));
      }
      batch.Put(NDA_LLADDR, bytes, 6);
    }
    batch.End();
  }
  std::vector<nl::Ack> acks(count);
  nl::Transact(fd, batch, seq, acks.data());
  uint32_t n = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (acks[i].error == 0) continue;
    Napi::Object f = Napi::Object::New(env);
    f.Set("index", Napi::Number::New(env, i));
    f.Set("errno", Napi::Number::New(env, acks[i].error));
    f.Set("message", Napi::String::New(env, acks[i].message));
    failures.Set(n++, f);
  }
  return failures;
}

Napi::Value IpNeighDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &ifindex)) return ThrowRange(env, "ipNeighDump(fd, ifindex)");
  Napi::Array result = Napi::Array::New(env);
  uint32_t count = 0;
  for (int family : {AF_INET, AF_INET6}) {
    uint32_t seq = NextSeq();
    struct ndmsg ndm;
    memset(&ndm, 0, sizeof ndm);
    ndm.ndm_family = static_cast<uint8_t>(family);
    nl::MessageBuilder request;
    request.Begin(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq, &ndm, sizeof ndm);
    // Strict dump checking takes the device filter as an attribute, not in the header.
    if (ifindex != 0) request.PutU32(NDA_IFINDEX, static_cast<uint32_t>(ifindex));
    request.End();
    std::string message;
    int err = nl::Request(
        fd, request, seq,
        [&](const struct nlmsghdr* h) {
          Napi::Object o;
          if (!ParseIpNeigh(h, env, &o)) return;
          if (ifindex != 0 && o.Get("ifindex").As<Napi::Number>().Int32Value() != ifindex) return;
          result.Set(count++, o);
        },
        &message);
    if (err != 0) return ThrowErrnoDetail(env, "RTM_GETNEIGH dump", err, message);
  }
  return result;
}

Napi::Value SnoopOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t receiveBuffer = 0;
  if (info.Length() > 0 && !ReadInt(info, 0, &receiveBuffer)) return ThrowRange(env, "snoopOpen(receiveBufferBytes)");
  // ARP, or IPv6 (no extension header) carrying ICMPv6 type 135 (NS) or 136 (NA).
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog program = {static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  // Protocol 0: nothing is queued before the filter is in place and bind() names ETH_P_ALL.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket(AF_PACKET)", errno);
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    return ThrowErrno(env, what, err);
  };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) return fail("SO_ATTACH_FILTER");
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) return fail("PACKET_IGNORE_OUTGOING");
  if (receiveBuffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer) != 0) {
    return fail("SO_RCVBUF");
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = 0;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) != 0) return fail("bind(AF_PACKET)");
  return Napi::Number::New(env, fd);
}

Napi::Value SnoopRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer()) {
    return ThrowRange(env, "snoopRecv(fd, buffer)");
  }
  Napi::Buffer<uint8_t> buffer = info[1].As<Napi::Buffer<uint8_t>>();
  struct sockaddr_ll from;
  socklen_t fromLength = sizeof from;
  ssize_t n = recvfrom(fd, buffer.Data(), buffer.Length(), MSG_TRUNC, reinterpret_cast<struct sockaddr*>(&from),
                       &fromLength);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return env.Null();
    return ThrowErrno(env, "recvfrom(AF_PACKET)", errno);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", Napi::Number::New(env, from.sll_ifindex));
  o.Set("length", Napi::Number::New(env, n < static_cast<ssize_t>(buffer.Length()) ? n : buffer.Length()));
  return o;
}

}  // namespace dvs
