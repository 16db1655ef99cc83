// Programming links over a kept rtnetlink socket (rtnlOpen): creating a bridge
// or a vxlan device, changing a link (MTU, up/down, master, alias, bridge-port
// flags) and deleting one. The TypeScript layer (src/kernel-links.ts) checks
// every value first; here each request is built from the spec object and
// sent with an ack, and a refusal throws with the kernel's errno and its
// extended-ack text (`detail`).
//
// rtnlLinkCreate(fd, spec): spec = { kind: 'bridge' | 'vxlan', name, mtu?,
//   address? (6-byte Uint8Array), master? (ifindex), up,
//   bridge?: { ageingCentiseconds?, vlanFiltering?, stpState?, multicastSnooping? },
//   vxlan?: { vni?, local? (4 or 16-byte Uint8Array), port?, underlay?,
//             learning, external, vniFilter, ttl?, ageing?, limit?,
//             udpChecksum?, udp6ZeroChecksumTx?, udp6ZeroChecksumRx? } }
// rtnlLinkSet(fd, ifindex, change): change = { mtu?, address?, up?, master? (0
//   releases), alias? ('' removes), bridgePort?: { learning?, neighSuppress?,
//   unicastFlood?, multicastFlood?, broadcastFlood?, hairpin?, isolated? } }
// rtnlLinkDelete(fd, ifindex)
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <string>

#include "common.h"
#include "native.h"
#include "netlink.h"

namespace dvs {

namespace {

// Optional properties of a spec object; absent or undefined leaves *out alone.
bool Has(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return false;
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

bool OptU32(const Napi::Object& o, const char* key, uint32_t* out) {
  if (!Has(o, key) || !o.Get(key).IsNumber()) return false;
  *out = o.Get(key).As<Napi::Number>().Uint32Value();
  return true;
}

bool OptBool(const Napi::Object& o, const char* key, bool* out) {
  if (!Has(o, key)) return false;
  *out = o.Get(key).ToBoolean().Value();
  return true;
}

// A flag as a u8 attribute, when the spec has it.
void PutOptFlag(nl::MessageBuilder* b, const Napi::Object& o, const char* key, uint16_t type) {
  bool value;
  if (OptBool(o, key, &value)) b->PutU8(type, value ? 1 : 0);
}

bool OptBytes(const Napi::Object& o, const char* key, std::string* out) {
  if (!Has(o, key) || !o.Get(key).IsTypedArray()) return false;
  Napi::Uint8Array bytes = o.Get(key).As<Napi::Uint8Array>();
  out->assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ElementLength());
  return true;
}

void PutBridgeData(nl::MessageBuilder* b, const Napi::Object& spec) {
  uint32_t value;
  if (OptU32(spec, "ageingCentiseconds", &value)) b->PutU32(IFLA_BR_AGEING_TIME, value);
  if (OptU32(spec, "stpState", &value)) b->PutU32(IFLA_BR_STP_STATE, value);
  PutOptFlag(b, spec, "vlanFiltering", IFLA_BR_VLAN_FILTERING);
  PutOptFlag(b, spec, "multicastSnooping", IFLA_BR_MCAST_SNOOPING);
}

void PutVxlanData(nl::MessageBuilder* b, const Napi::Object& spec) {
  uint32_t value;
  if (OptU32(spec, "vni", &value)) b->PutU32(IFLA_VXLAN_ID, value);
  std::string local;
  if (OptBytes(spec, "local", &local)) {
    b->Put(local.size() == 16 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, local.data(), local.size());
  }
  if (OptU32(spec, "port", &value)) b->PutU16(IFLA_VXLAN_PORT, htons(static_cast<uint16_t>(value)));
  if (OptU32(spec, "underlay", &value)) b->PutU32(IFLA_VXLAN_LINK, value);
  if (OptU32(spec, "ttl", &value)) b->PutU8(IFLA_VXLAN_TTL, static_cast<uint8_t>(value));
  if (OptU32(spec, "ageing", &value)) b->PutU32(IFLA_VXLAN_AGEING, value);
  if (OptU32(spec, "limit", &value)) b->PutU32(IFLA_VXLAN_LIMIT, value);
  PutOptFlag(b, spec, "learning", IFLA_VXLAN_LEARNING);
  PutOptFlag(b, spec, "udpChecksum", IFLA_VXLAN_UDP_CSUM);
  PutOptFlag(b, spec, "udp6ZeroChecksumTx", IFLA_VXLAN_UDP_ZERO_CSUM6_TX);
  PutOptFlag(b, spec, "udp6ZeroChecksumRx", IFLA_VXLAN_UDP_ZERO_CSUM6_RX);
  bool external = false;
  if (OptBool(spec, "external", &external) && external) {
    b->PutU8(IFLA_VXLAN_COLLECT_METADATA, 1);
    PutOptFlag(b, spec, "vniFilter", IFLA_VXLAN_VNIFILTER);
  }
}

void PutBridgePortData(nl::MessageBuilder* b, const Napi::Object& spec) {
  PutOptFlag(b, spec, "learning", IFLA_BRPORT_LEARNING);
  PutOptFlag(b, spec, "neighSuppress", IFLA_BRPORT_NEIGH_SUPPRESS);
  PutOptFlag(b, spec, "unicastFlood", IFLA_BRPORT_UNICAST_FLOOD);
  PutOptFlag(b, spec, "multicastFlood", IFLA_BRPORT_MCAST_FLOOD);
  PutOptFlag(b, spec, "broadcastFlood", IFLA_BRPORT_BCAST_FLOOD);
  PutOptFlag(b, spec, "hairpin", IFLA_BRPORT_MODE);
  PutOptFlag(b, spec, "isolated", IFLA_BRPORT_ISOLATED);
}

// Sends one request built by `b` (seq `seq`, NLM_F_ACK set) and throws on a
// refusal; returns true when it was taken.
bool SendOne(Napi::Env env, int fd, const nl::MessageBuilder& b, uint32_t seq, const char* what) {
  nl::Ack ack;
  int err = nl::Transact(fd, b, seq, &ack);
  if (err == 0) err = ack.error;
  if (err == 0) return true;
  ThrowErrnoDetail(env, what, err, ack.message);
  return false;
}

uint32_t NextSeq() {
  static thread_local uint32_t seq = 0x40000000;
  return ++seq;
}

}  // namespace

Napi::Value RtnlLinkCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsObject()) {
    return ThrowRange(env, "rtnlLinkCreate(fd, spec)");
  }
  Napi::Object spec = info[1].As<Napi::Object>();
  std::string kind = spec.Get("kind").ToString().Utf8Value();
  std::string name = spec.Get("name").ToString().Utf8Value();
  if (kind != "bridge" && kind != "vxlan") return ThrowRange(env, "kind must be 'bridge' or 'vxlan'");
  if (name.empty() || name.size() >= IFNAMSIZ) return ThrowErrno(env, "name", ENAMETOOLONG);

  struct ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_family = AF_UNSPEC;
  bool up = false;
  if (OptBool(spec, "up", &up) && up) {
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
  }
  uint32_t seq = NextSeq();
  nl::MessageBuilder b;
  b.Begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, &ifi, sizeof ifi);
  b.PutString(IFLA_IFNAME, name);
  uint32_t value;
  if (OptU32(spec, "mtu", &value)) b.PutU32(IFLA_MTU, value);
  if (OptU32(spec, "master", &value)) b.PutU32(IFLA_MASTER, value);
  std::string address;
  if (OptBytes(spec, "address", &address)) b.Put(IFLA_ADDRESS, address.data(), address.size());
  size_t linkInfo = b.BeginNest(IFLA_LINKINFO);
  b.PutString(IFLA_INFO_KIND, kind);
  size_t data = b.BeginNest(IFLA_INFO_DATA);
  if (Has(spec, kind.c_str()) && spec.Get(kind).IsObject()) {
    if (kind == "bridge") PutBridgeData(&b, spec.Get(kind).As<Napi::Object>());
    if (kind == "vxlan") PutVxlanData(&b, spec.Get(kind).As<Napi::Object>());
  }
  b.EndNest(data);
  b.EndNest(linkInfo);
  b.End();
  if (!SendOne(env, fd, b, seq, "RTM_NEWLINK create")) return Napi::Value();
  return env.Undefined();
}

Napi::Value RtnlLinkSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &ifindex) || info.Length() < 3 || !info[2].IsObject()) {
    return ThrowRange(env, "rtnlLinkSet(fd, ifindex, change)");
  }
  Napi::Object change = info[2].As<Napi::Object>();
  struct ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  bool up = false;
  if (OptBool(change, "up", &up)) {
    ifi.ifi_flags = up ? IFF_UP : 0;
    ifi.ifi_change = IFF_UP;
  }
  uint32_t seq = NextSeq();
  nl::MessageBuilder b;
  b.Begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, &ifi, sizeof ifi);
  uint32_t value;
  if (OptU32(change, "mtu", &value)) b.PutU32(IFLA_MTU, value);
  if (OptU32(change, "master", &value)) b.PutU32(IFLA_MASTER, value);
  std::string address;
  if (OptBytes(change, "address", &address)) b.Put(IFLA_ADDRESS, address.data(), address.size());
  if (Has(change, "alias")) {
    // An empty IFLA_IFALIAS (no NUL) removes the alias.
    std::string alias = change.Get("alias").ToString().Utf8Value();
    b.Put(IFLA_IFALIAS, alias.data(), alias.size());
  }
  if (Has(change, "bridgePort") && change.Get("bridgePort").IsObject()) {
    // The master's options for its port (what `ip link set … type
    // bridge_slave` sends); the kernel hands them to the port's bridge.
    size_t linkInfo = b.BeginNest(IFLA_LINKINFO);
    size_t data = b.BeginNest(IFLA_INFO_SLAVE_DATA);
    PutBridgePortData(&b, change.Get("bridgePort").As<Napi::Object>());
    b.EndNest(data);
    b.EndNest(linkInfo);
  }
  b.End();
  if (!SendOne(env, fd, b, seq, "RTM_NEWLINK set")) return Napi::Value();
  return env.Undefined();
}

Napi::Value RtnlLinkDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &ifindex)) return ThrowRange(env, "rtnlLinkDelete(fd, ifindex)");
  struct ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  uint32_t seq = NextSeq();
  nl::MessageBuilder b;
  b.Begin(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, &ifi, sizeof ifi);
  b.End();
  if (!SendOne(env, fd, b, seq, "RTM_DELLINK")) return Napi::Value();
  return env.Undefined();
}

}  // namespace dvs
