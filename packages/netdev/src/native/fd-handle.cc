#include "fd-handle.h"

#include <unistd.h>

#include "common.h"
#include "stage-trace.h"

namespace dvs {

Napi::Function FdHandle::Define(Napi::Env env) {
  return DefineClass(env, "FdHandle",
                     {
                         InstanceMethod<&FdHandle::Watch>("watch"),
                         InstanceMethod<&FdHandle::LoopRef>("ref"),
                         InstanceMethod<&FdHandle::LoopUnref>("unref"),
                         InstanceMethod<&FdHandle::Close>("close"),
                         InstanceAccessor<&FdHandle::GetFd>("fd"),
                     });
}

FdHandle::FdHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdHandle>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    ThrowRange(env, "FdHandle(fd, callback)");
    return;
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, "no uv loop").ThrowAsJavaScriptException();
    return;
  }
  poll_ = new uv_poll_t;
  int rc = uv_poll_init(loop, poll_, fd);
  if (rc != 0) {
    delete poll_;
    poll_ = nullptr;
    ::close(fd);  // the handle owns the fd from the moment it is passed in
    ThrowErrno(env, "uv_poll_init", -rc);
    return;
  }
  poll_->data = this;
  fd_ = fd;
  // The callback lives as a property of this object, not behind a strong
  // native reference: an unwatched, forgotten handle can be collected (and its
  // fd closed by the destructor). A watching handle is held (see Watch).
  info.This().As<Napi::Object>().Set("onPoll", info[1]);
  cleanup_ = env.AddCleanupHook(&FdHandle::OnEnvCleanup, this);
  hasCleanup_ = true;
}

FdHandle::~FdHandle() {
  if (hasCleanup_) {
    cleanup_.Remove(Env());
    hasCleanup_ = false;
  }
  held_ = false;  // being destroyed: nothing holds it any more
  CloseNow();
}

void FdHandle::OnEnvCleanup(FdHandle* self) {
  self->hasCleanup_ = false;
  self->held_ = false;  // the environment is going away with every reference
  self->CloseNow();
}

void FdHandle::Hold(bool hold) {
  if (hold == held_) return;
  held_ = hold;
  if (hold) {
    Napi::ObjectWrap<FdHandle>::Ref();
  } else {
    Napi::ObjectWrap<FdHandle>::Unref();
  }
}

void FdHandle::CloseNow() {
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    // uv_close stops the poll and forgets the fd in epoll, so closing the fd
    // right after is safe; the handle memory is freed in the close callback.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void FdHandle::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<FdHandle*>(handle->data);
  if (self == nullptr) return;
  MarkStage(kStagePoll, self->fd_, static_cast<uint32_t>(events));
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::Object object = self->Value();
  Napi::Value callback = object.Get("onPoll");
  if (!callback.IsFunction()) return;
  // MakeCallback: runs microtasks afterwards and reports a throw as an
  // uncaught exception, like any other I/O callback.
  callback.As<Napi::Function>().MakeCallback(object, {Napi::Number::New(env, events), Napi::Number::New(env, status)});
}

Napi::Value FdHandle::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (poll_ == nullptr) return ThrowErrno(env, "watch", EBADF);
  int want = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0;
  int events = ((want & 1) ? UV_READABLE : 0) | ((want & 2) ? UV_WRITABLE : 0);
  int rc = events == 0 ? uv_poll_stop(poll_) : uv_poll_start(poll_, events, OnPoll);
  if (rc != 0) return ThrowErrno(env, "uv_poll_start", -rc);
  if (unref_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  // While watching, the JS object must stay alive even if nobody else holds it
  // (like an active socket); when the watch stops it may be collected again.
  Hold(events != 0);
  return env.Undefined();
}

Napi::Value FdHandle::LoopRef(const Napi::CallbackInfo& info) {
  unref_ = false;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value FdHandle::LoopUnref(const Napi::CallbackInfo& info) {
  unref_ = true;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value FdHandle::Close(const Napi::CallbackInfo& info) {
  if (hasCleanup_) {
    cleanup_.Remove(info.Env());
    hasCleanup_ = false;
  }
  Hold(false);
  CloseNow();
  return info.Env().Undefined();
}

Napi::Value FdHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

}  // namespace dvs
