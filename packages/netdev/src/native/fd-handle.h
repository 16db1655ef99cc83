// FdHandle: owns one file descriptor and watches it with a uv_poll_t on Node's
// own event loop (no threadpool, no busy spin).
//
// JS: new FdHandle(fd, callback(events, status))
//   .watch(events)  events: 1 readable | 2 writable (0 stops; an active watch
//                   refs the loop like a listening socket does)
//   .ref() / .unref()
//   .close()        stops the watch, closes the handle and the fd; idempotent.
//                   The fd is also closed at environment teardown (cleanup
//                   hook) and when the object is garbage-collected unclosed
//                   (possible only while not watching: a watching handle
//                   holds itself alive, like an active socket).
#pragma once

#include <napi.h>
#include <uv.h>

namespace dvs {

class FdHandle : public Napi::ObjectWrap<FdHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit FdHandle(const Napi::CallbackInfo& info);
  ~FdHandle() override;

 private:
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value LoopRef(const Napi::CallbackInfo& info);
  Napi::Value LoopUnref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  void CloseNow();
  void Hold(bool hold);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(FdHandle* self);

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool unref_ = false;
  bool held_ = false;  // a strong reference to our JS object while watching
  Napi::Env::CleanupHook<void (*)(FdHandle*), FdHandle> cleanup_;
  bool hasCleanup_ = false;
};

}  // namespace dvs
