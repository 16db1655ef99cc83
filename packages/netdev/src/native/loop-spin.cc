#include "loop-spin.h"

#include <poll.h>
#include <time.h>
#include <uv.h>

#include "common.h"

namespace dvs {

// Per thread: each worker thread's loop spins (or not) on its own frames.
thread_local uint64_t g_framesSinceSpin = 0;

namespace {

constexpr int32_t kMaxBudgetUs = 10000;
uv_prepare_t* g_prepare = nullptr;
int64_t g_budgetNs = 0;
double g_spins = 0;
double g_spinsReady = 0;
double g_spunUs = 0;

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Runs right before the loop computes its timeout and sleeps in epoll_wait.
// poll() on the loop's epoll fd says whether any watched fd is ready without
// taking its events: the loop then finds them at once.
void OnPrepare(uv_prepare_t* handle) {
  if (g_framesSinceSpin == 0) return;
  g_framesSinceSpin = 0;
  struct pollfd pfd = {uv_backend_fd(handle->loop), POLLIN, 0};
  const int64_t start = MonotonicNs();
  int64_t now = start;
  bool ready = false;
  while (now - start < g_budgetNs) {
    if (poll(&pfd, 1, 0) > 0) {
      ready = true;
      break;
    }
    now = MonotonicNs();
  }
  g_spins += 1;
  if (ready) g_spinsReady += 1;
  g_spunUs += static_cast<double>(MonotonicNs() - start) / 1000;
}

}  // namespace

Napi::Value LoopSpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t budgetUs;
  if (!ReadInt(info, 0, &budgetUs)) return Napi::Value();
  if (budgetUs < 0 || budgetUs > kMaxBudgetUs) return ThrowRange(env, "loopSpin: budget 0..10000 µs");
  g_budgetNs = static_cast<int64_t>(budgetUs) * 1000;
  if (budgetUs == 0) {
    if (g_prepare != nullptr) {
      uv_prepare_stop(g_prepare);
      uv_close(reinterpret_cast<uv_handle_t*>(g_prepare),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
      g_prepare = nullptr;
    }
    return env.Undefined();
  }
  if (g_prepare != nullptr) return env.Undefined();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, "no uv loop").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  g_prepare = new uv_prepare_t;
  uv_prepare_init(loop, g_prepare);
  uv_prepare_start(g_prepare, OnPrepare);
  // The spin never keeps the process alive by itself.
  uv_unref(reinterpret_cast<uv_handle_t*>(g_prepare));
  return env.Undefined();
}

Napi::Value LoopSpinStats(const Napi::CallbackInfo& info) {
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), 3);
  out[0] = g_spins;
  out[1] = g_spinsReady;
  out[2] = g_spunUs;
  return out;
}

}  // namespace dvs
