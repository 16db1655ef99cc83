// Links over rtnetlink (NETLINK_ROUTE), in the calling thread's network
// namespace: a one-shot query (RTM_GETLINK, one link by name or a dump of all),
// the same query over a kept socket (rtnlOpen: the socket stays in the
// namespace it was opened in, with counters on request), and a monitor socket
// subscribed to RTMGRP_LINK (RTM_NEWLINK / RTM_DELLINK), which the TypeScript
// side watches on Node's loop like any other fd.
//
// Every link is returned as the same plain record:
//   { ifindex, name, mtu, flags (IFF_*), type (ARPHRD_*), operState (IF_OPER_*),
//     kind (IFLA_INFO_KIND, '' when the driver has none), tunType (IFLA_TUN_TYPE
//     for kind 'tun': 1 TUN, 2 TAP; 0 otherwise), master, parent (IFLA_LINK),
//     mac ('02:00:…' or ''), alias (IFLA_IFALIAS, '' when none), deleted
//     (RTM_DELLINK), and when present: vxlan {…}, bridge {…}, bridgePort {…},
//     counters {…} (link-record.cc) }
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common.h"
#include "link-record.h"
#include "monitor-socket.h"
#include "native.h"
#include "netlink.h"

namespace dvs {

namespace {

// RTM_GETLINK: for `name` or `ifindex`, or a dump of every link when both are
// empty. Counters (IFLA_STATS64) only when asked for: they cost the kernel a
// walk over every CPU's counters per link.
void BuildGetLink(nl::MessageBuilder* b, const std::string& name, int ifindex, bool counters, uint32_t seq) {
  struct ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  bool dump = name.empty() && ifindex == 0;
  b->Begin(RTM_GETLINK, NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0), seq, &ifi, sizeof ifi);
  b->PutU32(IFLA_EXT_MASK, counters ? 0 : RTEXT_FILTER_SKIP_STATS);
  if (!name.empty()) b->PutString(IFLA_IFNAME, name);
  b->End();
}

// The links asked for (see BuildGetLink): [] when there is no such link here.
Napi::Value QueryLinks(Napi::Env env, int fd, const std::string& name, int ifindex, bool counters) {
  static thread_local uint32_t seq = 1;
  nl::MessageBuilder request;
  BuildGetLink(&request, name, ifindex, counters, ++seq);
  Napi::Array result = Napi::Array::New(env);
  uint32_t count = 0;
  std::string message;
  int err = nl::Request(
      fd, request, seq,
      [&](const struct nlmsghdr* h) {
        LinkRecord record;
        if (ParseLink(h, &record)) result.Set(count++, LinkToObject(env, record));
      },
      &message);
  if (err == ENODEV) return result;  // no link of that name or index here
  if (err != 0) return ThrowErrno(env, "RTM_GETLINK", err);
  return result;
}

struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

// linkQuery(name) -> records: the link named `name` ([] when there is none in
// this namespace), or every link when name is ''. A socket of its own, opened
// and closed here, so the answer is about this thread's namespace now.
Napi::Value LinkQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowRange(env, "linkQuery(name)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) return ThrowErrno(env, "name", ENAMETOOLONG);
  FdGuard sock{nl::OpenRouteSocket(0, 0)};
  if (sock.fd < 0) return ThrowErrno(env, "socket(NETLINK_ROUTE)", -sock.fd);
  return QueryLinks(env, sock.fd, name, 0, false);
}

// rtnlOpen(receiveBufferBytes) -> fd: a NETLINK_ROUTE socket for requests (no
// groups) in this thread's namespace; every rtnl*/fdb* request on it stays
// there. The receive buffer holds the acks of one batch (fdbApply).
Napi::Value RtnlOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t bufferBytes = 0;
  if (!ReadInt(info, 0, &bufferBytes)) return Napi::Value();
  int fd = nl::OpenRouteSocket(0, bufferBytes);
  if (fd < 0) return ThrowErrno(env, "socket(NETLINK_ROUTE)", -fd);
  return Napi::Number::New(env, fd);
}

// rtnlLinks(fd, name, ifindex, counters) -> records: as linkQuery, over the
// kept socket; by name, by ifindex, or all (name '' and ifindex 0).
Napi::Value RtnlLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, ifindex;
  if (!ReadInt(info, 0, &fd) || info.Length() < 4 || !info[1].IsString() || !ReadInt(info, 2, &ifindex)) {
    return ThrowRange(env, "rtnlLinks(fd, name, ifindex, counters)");
  }
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) return ThrowErrno(env, "name", ENAMETOOLONG);
  return QueryLinks(env, fd, name, ifindex, info[3].ToBoolean().Value());
}

// linkMonitorOpen(bufferBytes) -> fd: non-blocking, subscribed to RTMGRP_LINK.
//   bufferBytes 0: the default socket buffer.
Napi::Value LinkMonitorOpen(const Napi::CallbackInfo& info) {
  return OpenMonitorSocket(info, RTMGRP_LINK, "bind(RTMGRP_LINK)");
}

// linkMonitorRead(fd, dump: boolean) -> { records: links in arrival order, overflow: bool }
//   Reads what is pending (bounded per call). With dump, first asks the same
//   socket for every link (so the answer comes from the socket's namespace,
//   wherever this thread is now) and waits for the end of that dump; records
//   of the dump have dumped: true, notifications dumped: false, in the order
//   they arrived. overflow: the kernel dropped notifications (ENOBUFS) — the
//   caller must re-read the whole table.
Napi::Value LinkMonitorRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ReadInt(info, 0, &fd)) return Napi::Value();
  bool dump = info.Length() > 1 && info[1].ToBoolean().Value();
  static thread_local uint32_t dumpSeq = 1000;
  nl::MessageBuilder request;
  if (dump) BuildGetLink(&request, "", 0, false, ++dumpSeq);
  return ReadMonitorSocket(env, fd, dump ? &request : nullptr, dumpSeq, dump ? "RTM_GETLINK dump" : "recv(RTMGRP_LINK)",
                           [&](const struct nlmsghdr* h, Napi::Object* out) {
                             LinkRecord record;
                             if (!ParseLink(h, &record)) return false;
                             *out = LinkToObject(env, record);
                             return true;
                           });
}

}  // namespace dvs
