// The stage trace: CLOCK_MONOTONIC timestamps of a frame's way through the
// addon (uv_poll wake-up, TAP read, sendmmsg, recvmmsg, TAP write), for the
// latency breakdown of the data-path benchmark. Off by default; while off,
// every mark is one predictable branch on a null pointer (no clock read, no
// allocation). Both agents of a lab share the host's monotonic clock, so
// their records can be laid on one time line.
#pragma once

#include <napi.h>

#include <cstdint>

namespace dvs {

enum StageMark : uint32_t {
  kStagePoll = 1,       // uv_poll callback entered (before JS runs)
  kStageTapRead = 2,    // tapRead returns frames
  kStageSendStart = 3,  // udpSend before its first sendmmsg
  kStageSendDone = 4,   // udpSend after its last sendmmsg
  kStageRecvDone = 5,   // udpRecv returns datagrams
  kStageTapWrite = 6,   // tapWrite after its last write
  kStageTapWriteStart = 7,  // tapWrite before its first write
  kStageJsHandler = 8,      // from JS (stageMark): the data path's read handler entered
  kStageJsRead = 9,         // from JS: a read or receive returned frames to the data path
  kStageJsSwitched = 10,    // from JS: the pipeline switched the batch, its flush begins
};

// Non-null while the trace runs: the ring of records (4 doubles each).
extern double* g_stageRing;

void StageRecord(StageMark mark, int fd, uint32_t frames);

inline void MarkStage(StageMark mark, int fd, uint32_t frames) {
  if (__builtin_expect(g_stageRing != nullptr, 0)) StageRecord(mark, fd, frames);
}

// stageTraceStart(capacity records) · stageTraceTake() -> Float64Array of
// [mark, fd, frames, microseconds] per record, oldest first (the ring keeps
// the newest `capacity`), and empties it · stageTraceStop().
Napi::Value StageTraceStart(const Napi::CallbackInfo& info);
Napi::Value StageTraceTake(const Napi::CallbackInfo& info);
Napi::Value StageTraceStop(const Napi::CallbackInfo& info);
// stageMark(mark 8..10): a mark from JS (no fd).
Napi::Value StageMarkFromJs(const Napi::CallbackInfo& info);

}  // namespace dvs
