// One link as RTM_NEWLINK/RTM_DELLINK describes it, and its conversion to the
// plain JS record every link function returns (see rtnetlink.cc for the
// fields). The details a kernel datapath needs come along when present: the
// alias (IFLA_IFALIAS, how dvs marks its devices), a vxlan device's and a
// bridge's settings (IFLA_INFO_DATA), a bridge port's flags
// (IFLA_INFO_SLAVE_DATA) and the counters (IFLA_STATS64, only when asked for).
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstdint>
#include <string>

namespace dvs {

struct VxlanDetails {
  bool present = false;
  bool hasVni = false;
  uint32_t vni = 0;
  std::string local;  // IFLA_VXLAN_LOCAL or LOCAL6, '' when unset
  std::string group;  // IFLA_VXLAN_GROUP or GROUP6, '' when unset
  uint16_t port = 0;  // host order
  uint32_t underlay = 0;  // IFLA_VXLAN_LINK
  bool learning = true;
  bool external = false;
  bool vniFilter = false;
  uint8_t ttl = 0;
  uint32_t ageing = 0;
  uint32_t limit = 0;
  bool udpChecksum = false;
  bool udp6ZeroChecksumTx = false;
  bool udp6ZeroChecksumRx = false;
};

struct BridgeDetails {
  bool present = false;
  uint32_t ageingCentiseconds = 0;
  uint32_t stpState = 0;
  bool vlanFiltering = false;
  bool multicastSnooping = false;
};

struct BridgePortDetails {
  bool present = false;
  uint8_t state = 0;  // BR_STATE_*
  bool learning = false;
  bool unicastFlood = false;
  bool multicastFlood = false;
  bool broadcastFlood = false;
  bool neighSuppress = false;
  bool hairpin = false;
  bool isolated = false;
};

struct LinkCounters {
  bool present = false;
  uint64_t rxPackets = 0, txPackets = 0, rxBytes = 0, txBytes = 0;
  uint64_t rxErrors = 0, txErrors = 0, rxDropped = 0, txDropped = 0, multicast = 0;
};

struct LinkRecord {
  int ifindex = 0;
  std::string name;
  uint32_t mtu = 0;
  uint32_t flags = 0;
  uint32_t type = 0;
  uint32_t operState = 0;
  std::string kind;
  uint32_t tunType = 0;
  uint32_t master = 0;
  uint32_t parent = 0;
  std::string mac;
  std::string alias;
  bool deleted = false;
  VxlanDetails vxlan;
  BridgeDetails bridge;
  BridgePortDetails bridgePort;
  LinkCounters counters;
};

// Parses one RTM_NEWLINK/RTM_DELLINK message; false for anything else.
bool ParseLink(const struct nlmsghdr* h, LinkRecord* out);

Napi::Object LinkToObject(Napi::Env env, const LinkRecord& r);

}  // namespace dvs
