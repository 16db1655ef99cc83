// Network namespace switching for the calling thread (tests, the benchmark and
// the lab create TAPs and sockets inside a namespace, then switch back). The
// fds keep their namespace after the switch back.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"
#include "native.h"

namespace dvs {

// netnsEnter(path) -> fd of the namespace the thread was in (pass to netnsRestore)
Napi::Value NetnsEnter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowRange(env, "netnsEnter(path)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) return ThrowErrno(env, "open /proc/thread-self/ns/net", errno);
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    ::close(saved);
    return ThrowErrno(env, "open netns", err);
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  ::close(target);
  if (rc != 0) {
    ::close(saved);
    return ThrowErrno(env, "setns", err);
  }
  return Napi::Number::New(env, saved);
}

// netnsRestore(savedFd): switches back and closes savedFd.
Napi::Value NetnsRestore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t saved;
  if (!ReadInt(info, 0, &saved)) return Napi::Value();
  int rc = setns(saved, CLONE_NEWNET);
  int err = errno;
  ::close(saved);
  if (rc != 0) return ThrowErrno(env, "setns", err);
  return env.Undefined();
}

}  // namespace dvs
