/**
 * The loop spin: a busy wait of at most `budgetUs` microseconds right before
 * Node's event loop would sleep in epoll_wait, taken only when frames were
 * received since the last one (src/native/loop-spin.cc). It polls the loop's
 * own epoll fd, so a frame on any watched TAP or socket ends it, and the loop
 * handles the frame at once instead of after the scheduler wakes a sleeping
 * process. The price is CPU: up to `budgetUs` after every burst of traffic,
 * nothing while no frames arrive. Timers run late by at most the budget.
 *
 * One per process (the loop is): the last setLoopSpin() wins; 0 stops it.
 */
import { nativeBinding } from './native-binding.js';

/** The largest budget: a longer spin would hold timers and the admin socket back noticeably. */
export const LOOP_SPIN_MAX_US = 10_000;

export interface LoopSpinStats {
  /** Spins taken (each after frames were received). */
  spins: number;
  /** Spins that ended because a watched fd became ready. */
  spinsEndedByReadiness: number;
  /** Microseconds spent spinning, all spins. */
  spunMicroseconds: number;
}

export function setLoopSpin(budgetUs: number): void {
  nativeBinding().loopSpin(budgetUs);
}

export function loopSpinStats(): LoopSpinStats {
  const s = nativeBinding().loopSpinStats();
  return { spins: s[0], spinsEndedByReadiness: s[1], spunMicroseconds: s[2] };
}
