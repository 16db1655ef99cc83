// Links over rtnetlink (NETLINK_ROUTE), in the calling thread's network
// namespace: a one-shot query (RTM_GETLINK, one link by name or a dump of all)
// and a monitor socket subscribed to RTMGRP_LINK (RTM_NEWLINK / RTM_DELLINK),
// which the TypeScript side watches on Node's loop like any other fd.
//
// Every link is returned as the same plain record:
//   { ifindex, name, mtu, flags (IFF_*), type (ARPHRD_*), operState (IF_OPER_*),
//     kind (IFLA_INFO_KIND, '' when the driver has none), tunType (IFLA_TUN_TYPE
//     for kind 'tun': 1 TUN, 2 TAP; 0 otherwise), master, parent (IFLA_LINK),
//     mac ('02:00:…' or ''), deleted (RTM_DELLINK) }
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"
#include "native.h"

namespace dvs {

namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;
// The monitor's socket buffer: a burst of link changes (a host starting 100
// VMs) must not overflow it; if it still does, the reader resyncs (ENOBUFS).
constexpr int kMonitorSocketBuffer = 4 * 1024 * 1024;

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
  bool deleted = false;
};

void ParseLinkInfo(struct rtattr* info, LinkRecord* out) {
  int len = RTA_PAYLOAD(info);
  for (struct rtattr* a = static_cast<struct rtattr*>(RTA_DATA(info)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_INFO_KIND) {
      out->kind.assign(static_cast<const char*>(RTA_DATA(a)), strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
    } else if (a->rta_type == IFLA_INFO_DATA) {
      int dlen = RTA_PAYLOAD(a);
      for (struct rtattr* d = static_cast<struct rtattr*>(RTA_DATA(a)); RTA_OK(d, dlen); d = RTA_NEXT(d, dlen)) {
        // Only meaningful for kind 'tun' (checked once the kind is known).
        if (d->rta_type == IFLA_TUN_TYPE && RTA_PAYLOAD(d) >= 1) out->tunType = *static_cast<uint8_t*>(RTA_DATA(d));
      }
    }
  }
}

// Parses one RTM_NEWLINK/RTM_DELLINK message; false for anything else.
bool ParseLink(const struct nlmsghdr* h, LinkRecord* out) {
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) return false;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) return false;
  auto* ifi = static_cast<struct ifinfomsg*>(NLMSG_DATA(h));
  out->ifindex = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  out->type = ifi->ifi_type;
  out->deleted = h->nlmsg_type == RTM_DELLINK;
  uint32_t tunType = 0;
  int len = IFLA_PAYLOAD(h);
  for (struct rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const void* data = RTA_DATA(a);
    size_t size = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case IFLA_IFNAME:
        out->name.assign(static_cast<const char*>(data), strnlen(static_cast<const char*>(data), size));
        break;
      case IFLA_MTU:
        if (size >= 4) memcpy(&out->mtu, data, 4);
        break;
      case IFLA_OPERSTATE:
        if (size >= 1) out->operState = *static_cast<const uint8_t*>(data);
        break;
      case IFLA_MASTER:
        if (size >= 4) memcpy(&out->master, data, 4);
        break;
      case IFLA_LINK:
        if (size >= 4) memcpy(&out->parent, data, 4);
        break;
      case IFLA_ADDRESS: {
        std::string mac;
        char part[4];
        for (size_t i = 0; i < size && i < 32; i++) {
          snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", static_cast<const uint8_t*>(data)[i]);
          mac += part;
        }
        out->mac = mac;
        break;
      }
      case IFLA_LINKINFO: {
        LinkRecord info;
        ParseLinkInfo(a, &info);
        out->kind = info.kind;
        tunType = info.tunType;
        break;
      }
      default:
        break;
    }
  }
  out->tunType = out->kind == "tun" ? tunType : 0;
  return true;
}

Napi::Object ToObject(Napi::Env env, const LinkRecord& r) {
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
  o.Set("deleted", Napi::Boolean::New(env, r.deleted));
  return o;
}

// Sends RTM_GETLINK: for `name`, or a dump of every link when name is empty.
bool SendGetLink(int fd, const std::string& name, uint32_t seq) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg ifi;
    alignas(NLMSG_ALIGNTO) char attrs[64];
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | (name.empty() ? NLM_F_DUMP : 0);
  req.h.nlmsg_seq = seq;
  req.ifi.ifi_family = AF_UNSPEC;
  auto addAttr = [&](unsigned short type, const void* data, size_t size) {
    auto* a = reinterpret_cast<struct rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.h.nlmsg_len));
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(size);
    memcpy(RTA_DATA(a), data, size);
    req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  };
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  addAttr(IFLA_EXT_MASK, &mask, sizeof mask);
  if (!name.empty()) addAttr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  for (;;) {
    if (send(fd, &req, req.h.nlmsg_len, 0) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

// linkQuery(name) -> records: the link named `name` ([] when there is none in
// this namespace), or every link when name is ''.
Napi::Value LinkQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowRange(env, "linkQuery(name)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) return ThrowErrno(env, "name", ENAMETOOLONG);
  FdGuard sock{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (sock.fd < 0) return ThrowErrno(env, "socket(NETLINK_ROUTE)", errno);
  // A kernel that never answers must not hang the loop.
  struct timeval timeout = {2, 0};
  setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  if (!SendGetLink(sock.fd, name, 1)) return ThrowErrno(env, "send(RTM_GETLINK)", errno);

  Napi::Array result = Napi::Array::New(env);
  uint32_t count = 0;
  static thread_local char buffer[kReceiveBuffer];
  for (;;) {
    ssize_t r = recv(sock.fd, buffer, sizeof buffer, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(env, "recv(RTM_GETLINK)", errno);
    }
    size_t left = static_cast<size_t>(r);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != 1) continue;
      if (h->nlmsg_type == NLMSG_DONE) return result;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<struct nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return result;
        if (e->error == -ENODEV) return result;  // no link of that name here
        return ThrowErrno(env, "RTM_GETLINK", -e->error);
      }
      LinkRecord record;
      if (ParseLink(h, &record)) result.Set(count++, ToObject(env, record));
      // A query for one name is answered by one message, not a dump.
      if (!name.empty() && !(h->nlmsg_flags & NLM_F_MULTI)) return result;
    }
  }
}

// linkMonitorOpen(bufferBytes) -> fd: non-blocking, subscribed to RTMGRP_LINK.
//   bufferBytes 0: the default socket buffer.
Napi::Value LinkMonitorOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t bufferBytes = 0;
  if (info.Length() > 0 && !ReadInt(info, 0, &bufferBytes)) return Napi::Value();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return ThrowErrno(env, "socket(NETLINK_ROUTE)", errno);
  int size = bufferBytes > 0 ? bufferBytes : kMonitorSocketBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return ThrowErrno(env, "bind(RTMGRP_LINK)", err);
  }
  return Napi::Number::New(env, fd);
}

// linkMonitorRead(fd, dump: boolean) -> { links: records in arrival order, overflow: bool }
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
  uint32_t seq = 0;
  if (dump) {
    seq = ++dumpSeq;
    if (!SendGetLink(fd, "", seq)) return ThrowErrno(env, "send(RTM_GETLINK)", errno);
  }
  bool waiting = dump;
  Napi::Array links = Napi::Array::New(env);
  uint32_t count = 0;
  bool overflow = false;
  static thread_local char buffer[kReceiveBuffer];
  for (int reads = 0; waiting || reads < 64; reads++) {
    ssize_t r = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        overflow = true;
        continue;
      }
      if (errno == EAGAIN && waiting) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, 2000);
        if (ready == 0) return ThrowErrno(env, "RTM_GETLINK dump", ETIMEDOUT);
        continue;
      }
      if (errno == EAGAIN) break;
      return ThrowErrno(env, "recv(RTMGRP_LINK)", errno);
    }
    size_t left = static_cast<size_t>(r);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      bool ofDump = seq != 0 && h->nlmsg_seq == seq;
      if (ofDump && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)) {
        waiting = false;
        continue;
      }
      LinkRecord record;
      if (!ParseLink(h, &record)) continue;
      Napi::Object o = ToObject(env, record);
      o.Set("dumped", Napi::Boolean::New(env, ofDump));
      links.Set(count++, o);
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("links", links);
  result.Set("overflow", Napi::Boolean::New(env, overflow));
  return result;
}

}  // namespace dvs
