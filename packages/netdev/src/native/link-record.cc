#include "link-record.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "netlink.h"

namespace dvs {

namespace {

void ParseVxlan(const struct rtattr* data, VxlanDetails* v) {
  v->present = true;
  nl::ForEachNested(data, [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case IFLA_VXLAN_ID:
        v->hasVni = true;
        v->vni = nl::U32(a);
        break;
      case IFLA_VXLAN_LOCAL:
      case IFLA_VXLAN_LOCAL6:
        v->local = nl::AddressText(RTA_DATA(a), RTA_PAYLOAD(a));
        break;
      case IFLA_VXLAN_GROUP:
      case IFLA_VXLAN_GROUP6:
        v->group = nl::AddressText(RTA_DATA(a), RTA_PAYLOAD(a));
        break;
      case IFLA_VXLAN_PORT:
        v->port = ntohs(nl::U16(a));
        break;
      case IFLA_VXLAN_LINK:
        v->underlay = nl::U32(a);
        break;
      case IFLA_VXLAN_LEARNING:
        v->learning = nl::U8(a) != 0;
        break;
      case IFLA_VXLAN_COLLECT_METADATA:
        v->external = nl::U8(a) != 0;
        break;
      case IFLA_VXLAN_VNIFILTER:
        v->vniFilter = nl::U8(a) != 0;
        break;
      case IFLA_VXLAN_TTL:
        v->ttl = nl::U8(a);
        break;
      case IFLA_VXLAN_AGEING:
        v->ageing = nl::U32(a);
        break;
      case IFLA_VXLAN_LIMIT:
        v->limit = nl::U32(a);
        break;
      case IFLA_VXLAN_UDP_CSUM:
        v->udpChecksum = nl::U8(a) != 0;
        break;
      case IFLA_VXLAN_UDP_ZERO_CSUM6_TX:
        v->udp6ZeroChecksumTx = nl::U8(a) != 0;
        break;
      case IFLA_VXLAN_UDP_ZERO_CSUM6_RX:
        v->udp6ZeroChecksumRx = nl::U8(a) != 0;
        break;
      default:
        break;
    }
  });
  // A group of 0.0.0.0 is the kernel's way of saying "none".
  if (v->group == "0.0.0.0" || v->group == "::") v->group.clear();
  if (v->local == "0.0.0.0" || v->local == "::") v->local.clear();
}

void ParseBridge(const struct rtattr* data, BridgeDetails* b) {
  b->present = true;
  nl::ForEachNested(data, [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case IFLA_BR_AGEING_TIME:
        b->ageingCentiseconds = nl::U32(a);
        break;
      case IFLA_BR_STP_STATE:
        b->stpState = nl::U32(a);
        break;
      case IFLA_BR_VLAN_FILTERING:
        b->vlanFiltering = nl::U8(a) != 0;
        break;
      case IFLA_BR_MCAST_SNOOPING:
        b->multicastSnooping = nl::U8(a) != 0;
        break;
      default:
        break;
    }
  });
}

void ParseBridgePort(const struct rtattr* data, BridgePortDetails* p) {
  p->present = true;
  nl::ForEachNested(data, [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case IFLA_BRPORT_STATE:
        p->state = nl::U8(a);
        break;
      case IFLA_BRPORT_LEARNING:
        p->learning = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_UNICAST_FLOOD:
        p->unicastFlood = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_MCAST_FLOOD:
        p->multicastFlood = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_BCAST_FLOOD:
        p->broadcastFlood = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_NEIGH_SUPPRESS:
        p->neighSuppress = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_MODE:
        p->hairpin = nl::U8(a) != 0;
        break;
      case IFLA_BRPORT_ISOLATED:
        p->isolated = nl::U8(a) != 0;
        break;
      default:
        break;
    }
  });
}

void ParseLinkInfo(const struct rtattr* info, LinkRecord* out, uint32_t* tunType) {
  std::string slaveKind;
  const struct rtattr* data = nullptr;
  const struct rtattr* slaveData = nullptr;
  nl::ForEachNested(info, [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case IFLA_INFO_KIND:
        out->kind = nl::String(a);
        break;
      case IFLA_INFO_SLAVE_KIND:
        slaveKind = nl::String(a);
        break;
      case IFLA_INFO_DATA:
        data = a;
        break;
      case IFLA_INFO_SLAVE_DATA:
        slaveData = a;
        break;
      default:
        break;
    }
  });
  // The kind is known only once the whole nest is read.
  if (data != nullptr) {
    if (out->kind == "vxlan") ParseVxlan(data, &out->vxlan);
    if (out->kind == "bridge") ParseBridge(data, &out->bridge);
    if (out->kind == "tun") {
      nl::ForEachNested(data, [&](const struct rtattr* d) {
        if (d->rta_type == IFLA_TUN_TYPE) *tunType = nl::U8(d);
      });
    }
  }
  if (slaveData != nullptr && slaveKind == "bridge") ParseBridgePort(slaveData, &out->bridgePort);
}

void ParseCounters(const struct rtattr* a, LinkCounters* c) {
  if (RTA_PAYLOAD(a) < sizeof(struct rtnl_link_stats64)) return;
  struct rtnl_link_stats64 s;
  memcpy(&s, RTA_DATA(a), sizeof s);
  c->present = true;
  c->rxPackets = s.rx_packets;
  c->txPackets = s.tx_packets;
  c->rxBytes = s.rx_bytes;
  c->txBytes = s.tx_bytes;
  c->rxErrors = s.rx_errors;
  c->txErrors = s.tx_errors;
  c->rxDropped = s.rx_dropped;
  c->txDropped = s.tx_dropped;
  c->multicast = s.multicast;
}

}  // namespace

bool ParseLink(const struct nlmsghdr* h, LinkRecord* out) {
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) return false;
  auto* ifi = static_cast<const struct ifinfomsg*>(NLMSG_DATA(h));
  out->ifindex = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  out->type = ifi->ifi_type;
  out->deleted = h->nlmsg_type == RTM_DELLINK;
  uint32_t tunType = 0;
  nl::ForEachAttr(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(h)), [&](const struct rtattr* a) {
    switch (a->rta_type) {
      case IFLA_IFNAME:
        out->name = nl::String(a);
        break;
      case IFLA_IFALIAS:
        out->alias = nl::String(a);
        break;
      case IFLA_MTU:
        out->mtu = nl::U32(a);
        break;
      case IFLA_OPERSTATE:
        out->operState = nl::U8(a);
        break;
      case IFLA_MASTER:
        out->master = nl::U32(a);
        break;
      case IFLA_LINK:
        out->parent = nl::U32(a);
        break;
      case IFLA_ADDRESS:
        out->mac = nl::MacText(static_cast<const uint8_t*>(RTA_DATA(a)), RTA_PAYLOAD(a));
        break;
      case IFLA_LINKINFO:
        ParseLinkInfo(a, out, &tunType);
        break;
      case IFLA_STATS64:
        ParseCounters(a, &out->counters);
        break;
      default:
        break;
    }
  });
  out->tunType = out->kind == "tun" ? tunType : 0;
  return true;
}

Napi::Object LinkToObject(Napi::Env env, const LinkRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ifindex", Napi::Number::New(env, r.ifindex));
  o.Set("name", Napi::String::New(env, r.name));
  o.Set("mtu", Napi::Number::New(env, r.mtu));
  o.Set("flags", Napi::Number::New(env, r.flags));
  o.Set("type", Napi::Number::New(env, r.type));
  o.Set("operState", Napi::Number::New(env, r.operState));
  o.Set("kind", Napi::String::New(env, r.kind));
  o.Set("tunType", Napi::Number::New(env, r.tunType));
  o.Set("master", Napi::Number::New(env, r.master));
  o.Set("parent", Napi::Number::New(env, r.parent));
  o.Set("mac", Napi::String::New(env, r.mac));
  o.Set("alias", Napi::String::New(env, r.alias));
  o.Set("deleted", Napi::Boolean::New(env, r.deleted));
  if (r.vxlan.present) {
    const VxlanDetails& v = r.vxlan;
    Napi::Object x = Napi::Object::New(env);
    x.Set("vni", v.hasVni ? Napi::Number::New(env, v.vni) : env.Null());
    x.Set("local", Napi::String::New(env, v.local));
    x.Set("group", Napi::String::New(env, v.group));
    x.Set("port", Napi::Number::New(env, v.port));
    x.Set("underlay", Napi::Number::New(env, v.underlay));
    x.Set("learning", Napi::Boolean::New(env, v.learning));
    x.Set("external", Napi::Boolean::New(env, v.external));
    x.Set("vniFilter", Napi::Boolean::New(env, v.vniFilter));
    x.Set("ttl", Napi::Number::New(env, v.ttl));
    x.Set("ageing", Napi::Number::New(env, v.ageing));
    x.Set("limit", Napi::Number::New(env, v.limit));
    x.Set("udpChecksum", Napi::Boolean::New(env, v.udpChecksum));
    x.Set("udp6ZeroChecksumTx", Napi::Boolean::New(env, v.udp6ZeroChecksumTx));
    x.Set("udp6ZeroChecksumRx", Napi::Boolean::New(env, v.udp6ZeroChecksumRx));
    o.Set("vxlan", x);
  }
  if (r.bridge.present) {
    Napi::Object b = Napi::Object::New(env);
    b.Set("ageingCentiseconds", Napi::Number::New(env, r.bridge.ageingCentiseconds));
    b.Set("stpState", Napi::Number::New(env, r.bridge.stpState));
    b.Set("vlanFiltering", Napi::Boolean::New(env, r.bridge.vlanFiltering));
    b.Set("multicastSnooping", Napi::Boolean::New(env, r.bridge.multicastSnooping));
    o.Set("bridge", b);
  }
  if (r.bridgePort.present) {
    const BridgePortDetails& p = r.bridgePort;
    Napi::Object b = Napi::Object::New(env);
    b.Set("state", Napi::Number::New(env, p.state));
    b.Set("learning", Napi::Boolean::New(env, p.learning));
    b.Set("unicastFlood", Napi::Boolean::New(env, p.unicastFlood));
    b.Set("multicastFlood", Napi::Boolean::New(env, p.multicastFlood));
    b.Set("broadcastFlood", Napi::Boolean::New(env, p.broadcastFlood));
    b.Set("neighSuppress", Napi::Boolean::New(env, p.neighSuppress));
    b.Set("hairpin", Napi::Boolean::New(env, p.hairpin));
    b.Set("isolated", Napi::Boolean::New(env, p.isolated));
    o.Set("bridgePort", b);
  }
  if (r.counters.present) {
    const LinkCounters& c = r.counters;
    Napi::Object s = Napi::Object::New(env);
    s.Set("rxPackets", Napi::Number::New(env, static_cast<double>(c.rxPackets)));
    s.Set("txPackets", Napi::Number::New(env, static_cast<double>(c.txPackets)));
    s.Set("rxBytes", Napi::Number::New(env, static_cast<double>(c.rxBytes)));
    s.Set("txBytes", Napi::Number::New(env, static_cast<double>(c.txBytes)));
    s.Set("rxErrors", Napi::Number::New(env, static_cast<double>(c.rxErrors)));
    s.Set("txErrors", Napi::Number::New(env, static_cast<double>(c.txErrors)));
    s.Set("rxDropped", Napi::Number::New(env, static_cast<double>(c.rxDropped)));
    s.Set("txDropped", Napi::Number::New(env, static_cast<double>(c.txDropped)));
    s.Set("multicast", Napi::Number::New(env, static_cast<double>(c.multicast)));
    o.Set("counters", s);
  }
  return o;
}

}  // namespace dvs
