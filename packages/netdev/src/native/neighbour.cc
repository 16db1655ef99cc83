// The FDB over rtnetlink (AF_BRIDGE neighbours): a batched apply of entry
// changes with one ack per entry, a dump, and a monitor subscribed to
// RTMGRP_NEIGH that the TypeScript side watches on Node's loop.
//
// fdbApply(fd, records, count, errors, batchMessages) -> [{ index, message }]
//   `records` holds `count` changes of kFdbRecordSize bytes each, written by
//   src/fdb-record.ts (the layout below, little-endian). They go to the kernel
//   `batchMessages` per sendmsg, every one with NLM_F_ACK; errors[i] gets 0
//   or the errno of change i, and the result lists the kernel's extended-ack
//   text of the refused ones. One refusal never stops the others.
// fdbDump(fd, ifindex, master) -> records: the entries of the device `ifindex`
//   (0: any) and/or of the ports of the bridge `master` (0: any).
// fdbMonitorOpen(bufferBytes) -> fd, fdbMonitorRead(fd, dump, tables) -> { records, overflow }
//   as linkMonitorOpen/linkMonitorRead (rtnetlink.cc), for AF_BRIDGE neighbours;
//   tables 0: every entry, 1: bridges' tables only, 2: devices' own only.
//
// An entry record: { ifindex, master, mac (48-bit number), vlan, state (NUD_*), flags (NTF_*),
//   dst ('' or IPv4/IPv6 text), dstPort, vni (null when absent), srcVni
//   (null when absent), via (NDA_IFINDEX), deleted, dumped? }
#include <arpa/inet.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "monitor-socket.h"
#include "native.h"
#include "netlink.h"

namespace dvs {

namespace {

// The change record (src/fdb-record.ts writes it):
//   0 u8 op (kOp*)   1 u8 state (NUD_*)   2 u8 flags (NTF_SELF/NTF_MASTER)
//   3 u8 dst family (0 none, 4, 6)   4 u32 ifindex   8 6B mac
//   14 u16 dst port (0: none)   16 16B dst   32 u32 vni   36 u32 src vni
//   40 u32 via ifindex (0: none)   44 u16 vlan (0: none)
//   46 u16 present (kHasVni | kHasSrcVni)
constexpr size_t kFdbRecordSize = 48;
constexpr uint8_t kOpAdd = 0;
constexpr uint8_t kOpReplace = 1;
constexpr uint8_t kOpAppend = 2;
constexpr uint8_t kOpDelete = 3;
constexpr uint16_t kHasVni = 1;
constexpr uint16_t kHasSrcVni = 2;
constexpr uint32_t kMaxBatchMessages = 4096;
// fdbMonitorRead's `tables`: which entries become records.
constexpr int32_t kTablesMaster = 1;
constexpr int32_t kTablesSelf = 2;

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

void BuildChange(nl::MessageBuilder* b, const uint8_t* r, uint32_t seq) {
  uint8_t op = r[0];
  struct ndmsg ndm;
  memset(&ndm, 0, sizeof ndm);
  ndm.ndm_family = AF_BRIDGE;
  ndm.ndm_ifindex = static_cast<int>(Le32(r + 4));
  ndm.ndm_state = r[1];
  ndm.ndm_flags = r[2];
  uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
  if (op == kOpAdd) flags |= NLM_F_CREATE | NLM_F_EXCL;
  if (op == kOpReplace) flags |= NLM_F_CREATE | NLM_F_REPLACE;
  if (op == kOpAppend) flags |= NLM_F_CREATE | NLM_F_APPEND;
  b->Begin(op == kOpDelete ? RTM_DELNEIGH : RTM_NEWNEIGH, flags, seq, &ndm, sizeof ndm);
  b->Put(NDA_LLADDR, r + 8, 6);
  if (r[3] == 4) b->Put(NDA_DST, r + 16, 4);
  if (r[3] == 6) b->Put(NDA_DST, r + 16, 16);
  uint16_t port = Le16(r + 14);
  if (port != 0) b->PutU16(NDA_PORT, htons(port));
  uint16_t present = Le16(r + 46);
  // NDA_VNI and NDA_SRC_VNI are in host order (vxlan_fdb_parse converts).
  if (present & kHasVni) b->PutU32(NDA_VNI, Le32(r + 32));
  if (present & kHasSrcVni) b->PutU32(NDA_SRC_VNI, Le32(r + 36));
  uint32_t via = Le32(r + 40);
  if (via != 0) b->PutU32(NDA_IFINDEX, via);
  uint16_t vlan = Le16(r + 44);
  if (vlan != 0) b->PutU16(NDA_VLAN, vlan);
  b->End();
}

struct NeighRecord {
  int ifindex = 0;
  uint32_t master = 0;
  double mac = 0;  // 48 bits as a number, as @dvs/wire's parseMac gives it
  uint16_t vlan = 0;
  uint16_t state = 0;
  uint8_t flags = 0;
  std::string dst;
  uint16_t dstPort = 0;
  bool hasVni = false;
  uint32_t vni = 0;
  bool hasSrcVni = false;
  uint32_t srcVni = 0;
  uint32_t via = 0;
  bool deleted = false;
};

// Parses an AF_BRIDGE RTM_NEWNEIGH/RTM_DELNEIGH; false for anything else
// (IPv4/IPv6 neighbours share the group).
bool ParseNeigh(const struct nlmsghdr* h, NeighRecord* out) {
  if (h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg))) return false;
  auto* ndm = static_cast<const struct ndmsg*>(NLMSG_DATA(h));
  if (ndm->ndm_family != AF_BRIDGE) return false;
  out->ifindex = ndm->ndm_ifindex;
  out->state = ndm->ndm_state;
  out->flags = ndm->ndm_flags;
  out->deleted = h->nlmsg_type == RTM_DELNEIGH;
  auto* first = reinterpret_cast<const struct rtattr*>(reinterpret_cast<const char*>(ndm) + NLMSG_ALIGN(sizeof *ndm));
  int length = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *ndm));
  nl::ForEachAttr(first, length, [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case NDA_LLADDR:
        if (RTA_PAYLOAD(a) == 6) {
          auto* b = static_cast<const uint8_t*>(RTA_DATA(a));
          out->mac = 0;
          for (int i = 0; i < 6; i++) out->mac = out->mac * 256 + b[i];
        }
        break;
      case NDA_DST:
        out->dst = nl::AddressText(RTA_DATA(a), RTA_PAYLOAD(a));
        break;
      case NDA_PORT:
        out->dstPort = ntohs(nl::U16(a));
        break;
      case NDA_VNI:
        out->hasVni = true;
        out->vni = nl::U32(a);
        break;
      case NDA_SRC_VNI:
        out->hasSrcVni = true;
        out->srcVni = nl::U32(a);
        break;
      case NDA_IFINDEX:
        out->via = nl::U32(a);
        break;
      case NDA_MASTER:
        out->master = nl::U32(a);
        break;
      case NDA_VLAN:
        out->vlan = nl::U16(a);
        break;
      default:
        break;
    }
  });
  return true;
}

Napi::Object NeighToObject(Napi::Env env, const NeighRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", Napi::Number::New(env, r.ifindex));
  o.Set("master", Napi::Number::New(env, r.master));
  o.Set("mac", Napi::Number::New(env, r.mac));
  o.Set("vlan", Napi::Number::New(env, r.vlan));
  o.Set("state", Napi::Number::New(env, r.state));
  o.Set("flags", Napi::Number::New(env, r.flags));
  o.Set("dst", Napi::String::New(env, r.dst));
  o.Set("dstPort", Napi::Number::New(env, r.dstPort));
  o.Set("vni", r.hasVni ? Napi::Number::New(env, r.vni) : env.Null());
  o.Set("srcVni", r.hasSrcVni ? Napi::Number::New(env, r.srcVni) : env.Null());
  o.Set("via", Napi::Number::New(env, r.via));
  o.Set("deleted", Napi::Boolean::New(env, r.deleted));
  return o;
}

// RTM_GETNEIGH dump of AF_BRIDGE entries; the kernel filters by port
// (ndm_ifindex) and bridge (NDA_MASTER) under strict checking.
void BuildFdbDump(nl::MessageBuilder* b, int ifindex, uint32_t master, uint32_t seq) {
  struct ndmsg ndm;
  memset(&ndm, 0, sizeof ndm);
  ndm.ndm_family = AF_BRIDGE;
  ndm.ndm_ifindex = ifindex;
  b->Begin(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq, &ndm, sizeof ndm);
  if (master != 0) b->PutU32(NDA_MASTER, master);
  b->End();
}

uint32_t NextSeq() {
  static thread_local uint32_t seq = 0x10000000;
  // Leave room for a whole batch of consecutive sequence numbers.
  seq += kMaxBatchMessages + 1;
  return seq;
}

}  // namespace

Napi::Value FdbApply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, count, batchMessages;
  if (!ReadInt(info, 0, &fd) || info.Length() < 5 || !info[1].IsBuffer() || !ReadInt(info, 2, &count) ||
      !info[3].IsTypedArray() || !ReadInt(info, 4, &batchMessages)) {
    return ThrowRange(env, "fdbApply(fd, records, count, errors, batchMessages)");
  }
  Napi::Buffer<uint8_t> records = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::TypedArray errorsArray = info[3].As<Napi::TypedArray>();
  if (count < 0 || records.Length() < static_cast<size_t>(count) * kFdbRecordSize ||
      errorsArray.TypedArrayType() != napi_int32_array || errorsArray.ElementLength() < static_cast<size_t>(count)) {
    return ThrowRange(env, "records must hold count changes and errors must be an Int32Array of count");
  }
  if (batchMessages < 1 || static_cast<uint32_t>(batchMessages) > kMaxBatchMessages) {
    return ThrowRange(env, "batchMessages must be 1..4096");
  }
  auto* errors = reinterpret_cast<int32_t*>(static_cast<uint8_t*>(errorsArray.ArrayBuffer().Data()) +
                                            errorsArray.ByteOffset());
  Napi::Array messages = Napi::Array::New(env);
  uint32_t messageCount = 0;
  nl::MessageBuilder batch;
  std::vector<nl::Ack> acks;
  for (int32_t first = 0; first < count; first += batchMessages) {
    int32_t n = count - first < batchMessages ? count - first : batchMessages;
    uint32_t seq = NextSeq();
    batch.Clear();
    for (int32_t i = 0; i < n; i++) BuildChange(&batch, records.Data() + (first + i) * kFdbRecordSize, seq + i);
    acks.assign(n, nl::Ack{});
    nl::Transact(fd, batch, seq, acks.data());
    for (int32_t i = 0; i < n; i++) {
      errors[first + i] = acks[i].error;
      if (acks[i].error != 0 && !acks[i].message.empty()) {
        Napi::Object m = Napi::Object::New(env);
        m.Set("index", Napi::Number::New(env, first + i));
        m.Set("message", Napi::String::New(env, acks[i].message));
        messages.Set(messageCount++, m);
      }
    }
  }
  return messages;
}

Napi::Value FdbDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex, master;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &ifindex) || !ReadInt(info, 2, &master)) {
    return ThrowRange(env, "fdbDump(fd, ifindex, master)");
  }
  uint32_t seq = NextSeq();
  nl::MessageBuilder request;
  BuildFdbDump(&request, ifindex, static_cast<uint32_t>(master), seq);
  Napi::Array result = Napi::Array::New(env);
  uint32_t count = 0;
  std::string message;
  int err = nl::Request(
      fd, request, seq,
      [&](const struct nlmsghdr* h) {
        NeighRecord record;
        if (!ParseNeigh(h, &record)) return;
        // The kernel's filter is by port; a bridge's own entries match too.
        if (ifindex != 0 && record.ifindex != ifindex) return;
        if (master != 0 && record.master != static_cast<uint32_t>(master) && record.ifindex != master) return;
        result.Set(count++, NeighToObject(env, record));
      },
      &message);
  if (err != 0) return ThrowErrnoDetail(env, "RTM_GETNEIGH dump", err, message);
  return result;
}

Napi::Value FdbMonitorOpen(const Napi::CallbackInfo& info) {
  return OpenMonitorSocket(info, RTMGRP_NEIGH, "bind(RTMGRP_NEIGH)");
}

Napi::Value FdbMonitorRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, tables;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 2, &tables)) return Napi::Value();
  bool dump = info[1].ToBoolean().Value();
  uint32_t seq = NextSeq();
  nl::MessageBuilder request;
  if (dump) BuildFdbDump(&request, 0, 0, seq);
  return ReadMonitorSocket(env, fd, dump ? &request : nullptr, seq, dump ? "RTM_GETNEIGH dump" : "recv(RTMGRP_NEIGH)",
                           [&](const struct nlmsghdr* h, Napi::Object* out) {
                             NeighRecord record;
                             if (!ParseNeigh(h, &record)) return false;
                             // The same rule as fdb-entry.ts: a bridge's table is
                             // an entry with a master and without NTF_SELF.
                             bool own = (record.flags & NTF_SELF) != 0 || record.master == 0;
                             if ((tables == kTablesMaster && own) || (tables == kTablesSelf && !own)) return false;
                             *out = NeighToObject(env, record);
                             return true;
                           });
}

}  // namespace dvs
