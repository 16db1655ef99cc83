#include "stage-trace.h"

#include <time.h>

#include <cstring>

#include "common.h"

namespace dvs {

namespace {
constexpr uint32_t kFields = 4;
constexpr int32_t kMaxRecords = 1 << 22;
uint32_t g_capacity = 0;  // records
uint64_t g_written = 0;   // records ever written since start/take
}  // namespace

double* g_stageRing = nullptr;

void StageRecord(StageMark mark, int fd, uint32_t frames) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double* r = g_stageRing + (g_written % g_capacity) * kFields;
  r[0] = mark;
  r[1] = fd;
  r[2] = frames;
  r[3] = static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  g_written++;
}

Napi::Value StageTraceStart(const Napi::CallbackInfo& info) {
  int32_t capacity;
  if (!ReadInt(info, 0, &capacity)) return Napi::Value();
  if (capacity < 1 || capacity > kMaxRecords) return ThrowRange(info.Env(), "stageTraceStart: capacity 1..4194304");
  delete[] g_stageRing;
  g_capacity = static_cast<uint32_t>(capacity);
  g_written = 0;
  g_stageRing = new double[static_cast<size_t>(g_capacity) * kFields];
  return info.Env().Undefined();
}

Napi::Value StageTraceTake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_stageRing == nullptr) return Napi::Float64Array::New(env, 0);
  const uint64_t kept = g_written < g_capacity ? g_written : g_capacity;
  Napi::Float64Array out = Napi::Float64Array::New(env, kept * kFields);
  const uint64_t first = g_written - kept;
  for (uint64_t k = 0; k < kept; k++) {
    memcpy(out.Data() + k * kFields, g_stageRing + ((first + k) % g_capacity) * kFields, kFields * sizeof(double));
  }
  g_written = 0;
  return out;
}

Napi::Value StageMarkFromJs(const Napi::CallbackInfo& info) {
  int32_t mark;
  if (!ReadInt(info, 0, &mark)) return Napi::Value();
  if (mark < kStageJsHandler || mark > kStageJsSwitched) return ThrowRange(info.Env(), "stageMark: a JS mark 8..10");
  MarkStage(static_cast<StageMark>(mark), -1, 0);
  return info.Env().Undefined();
}

Napi::Value StageTraceStop(const Napi::CallbackInfo& info) {
  delete[] g_stageRing;
  g_stageRing = nullptr;
  g_capacity = 0;
  g_written = 0;
  return info.Env().Undefined();
}

}  // namespace dvs
