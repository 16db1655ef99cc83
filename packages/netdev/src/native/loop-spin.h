// The loop spin (agent option busyPollUs): a short busy wait before Node's
// loop goes to sleep in epoll_wait, taken only after the data path received
// frames. A frame that arrives during the spin is seen at once, without the
// scheduler's wake-up of a sleeping process (and with warm caches); one that
// arrives later wakes the loop as before. Off by default: no handle exists.
#pragma once

#include <napi.h>

#include <cstdint>

namespace dvs {

// Frames received (TAP reads, UDP receives, AF_PACKET receives) since the
// last spin: the spin is taken only when this is not 0.
extern thread_local uint64_t g_framesSinceSpin;

inline void NoteFramesReceived(uint32_t n) { g_framesSinceSpin += n; }

// loopSpin(budgetMicroseconds): 0 stops it. Returns undefined.
// loopSpinStats() -> Float64Array [spins, spins that saw the loop's fds ready, microseconds spun].
Napi::Value LoopSpin(const Napi::CallbackInfo& info);
Napi::Value LoopSpinStats(const Napi::CallbackInfo& info);

}  // namespace dvs
