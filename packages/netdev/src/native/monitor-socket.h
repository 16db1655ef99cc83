// The native half shared by the link and FDB monitors: opening a NETLINK_ROUTE
// socket subscribed to a group, and reading what it has (with a dump of the
// whole table first on request) into { records, overflow }.
#pragma once

#include <napi.h>

#include <functional>

#include "netlink.h"

namespace dvs {

// (bufferBytes) -> fd: non-blocking, subscribed to `groups`; bufferBytes 0:
// the monitors' default (4 MiB: a burst of changes fits; beyond it, a resync).
Napi::Value OpenMonitorSocket(const Napi::CallbackInfo& info, uint32_t groups, const char* what);

// Reads what is pending on a monitor socket (nl::ReadNotifications), with
// `dump` sent first when not null. toObject turns a message into its record,
// or returns false for a message that is none. Returns { records (each with
// `dumped`), overflow }, or throws naming `what`.
Napi::Value ReadMonitorSocket(Napi::Env env, int fd, const nl::MessageBuilder* dump, uint32_t seq, const char* what,
                              const std::function<bool(const struct nlmsghdr*, Napi::Object*)>& toObject);

}  // namespace dvs
