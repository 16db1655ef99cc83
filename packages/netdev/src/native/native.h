// The functions the addon exports (see addon.cc for the JS names).
#pragma once

#include <napi.h>

namespace dvs {

Napi::Value TapOpen(const Napi::CallbackInfo& info);
Napi::Value TapRead(const Napi::CallbackInfo& info);
Napi::Value TapWrite(const Napi::CallbackInfo& info);
Napi::Value TapSetOffload(const Napi::CallbackInfo& info);
Napi::Value UdpOpen(const Napi::CallbackInfo& info);
Napi::Value UdpEnableGro(const Napi::CallbackInfo& info);
Napi::Value UdpRecv(const Napi::CallbackInfo& info);
Napi::Value UdpSend(const Napi::CallbackInfo& info);
Napi::Value AttachOpen(const Napi::CallbackInfo& info);
Napi::Value AttachRecv(const Napi::CallbackInfo& info);
Napi::Value AttachSend(const Napi::CallbackInfo& info);
Napi::Value AttachStatus(const Napi::CallbackInfo& info);
Napi::Value AttachMtu(const Napi::CallbackInfo& info);
Napi::Value AttachKernelStats(const Napi::CallbackInfo& info);
Napi::Value LinkQuery(const Napi::CallbackInfo& info);
Napi::Value LinkMonitorOpen(const Napi::CallbackInfo& info);
Napi::Value LinkMonitorRead(const Napi::CallbackInfo& info);
Napi::Value RtnlOpen(const Napi::CallbackInfo& info);
Napi::Value RtnlLinks(const Napi::CallbackInfo& info);
Napi::Value RtnlLinkCreate(const Napi::CallbackInfo& info);
Napi::Value RtnlLinkSet(const Napi::CallbackInfo& info);
Napi::Value RtnlLinkDelete(const Napi::CallbackInfo& info);
Napi::Value FdbApply(const Napi::CallbackInfo& info);
Napi::Value FdbDump(const Napi::CallbackInfo& info);
Napi::Value FdbMonitorOpen(const Napi::CallbackInfo& info);
Napi::Value FdbMonitorRead(const Napi::CallbackInfo& info);
Napi::Value IpNeighApply(const Napi::CallbackInfo& info);
Napi::Value IpNeighDump(const Napi::CallbackInfo& info);
Napi::Value SnoopOpen(const Napi::CallbackInfo& info);
Napi::Value SnoopRecv(const Napi::CallbackInfo& info);
Napi::Value NetnsEnter(const Napi::CallbackInfo& info);
Napi::Value NetnsRestore(const Napi::CallbackInfo& info);

}  // namespace dvs
