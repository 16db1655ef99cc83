#include "monitor-socket.h"

#include "common.h"

namespace dvs {

namespace {

constexpr int kMonitorSocketBuffer = 4 * 1024 * 1024;

}  // namespace

Napi::Value OpenMonitorSocket(const Napi::CallbackInfo& info, uint32_t groups, const char* what) {
  Napi::Env env = info.Env();
  int32_t bufferBytes = 0;
  if (info.Length() > 0 && !ReadInt(info, 0, &bufferBytes)) return Napi::Value();
  int fd = nl::OpenRouteSocket(groups, bufferBytes > 0 ? bufferBytes : kMonitorSocketBuffer);
  if (fd < 0) return ThrowErrno(env, what, -fd);
  return Napi::Number::New(env, fd);
}

Napi::Value ReadMonitorSocket(Napi::Env env, int fd, const nl::MessageBuilder* dump, uint32_t seq, const char* what,
                              const std::function<bool(const struct nlmsghdr*, Napi::Object*)>& toObject) {
  Napi::Array records = Napi::Array::New(env);
  uint32_t count = 0;
  bool overflow = false;
  int err = nl::ReadNotifications(
      fd, dump, seq,
      [&](const struct nlmsghdr* h, bool ofDump) {
        Napi::Object o;
        if (!toObject(h, &o)) return;
        o.Set("dumped", Napi::Boolean::New(env, ofDump));
        records.Set(count++, o);
      },
      &overflow);
  if (err != 0) return ThrowErrno(env, what, err);
  Napi::Object result = Napi::Object::New(env);
  result.Set("records", records);
  result.Set("overflow", Napi::Boolean::New(env, overflow));
  return result;
}

}  // namespace dvs
