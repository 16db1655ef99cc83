/**
 * The monitor's two clocks, injectable so the state machine is tested with a
 * fake: `monotonicMs` measures RTT and timeouts (never jumps), `wallMs` stamps
 * the time of a state change for people (epoch ms).
 */
export interface HealthClock {
  monotonicMs(): number;
  wallMs(): number;
}

export const systemHealthClock: HealthClock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};
