/**
 * Port QoS: a token bucket per direction, in the way of Open vSwitch's
 * `ingress_policing_rate` / `ingress_policing_burst` (kbit/s and kbit).
 *
 * Spec
 *  - Tokens are bytes. The bucket holds at most `burst` (burstKb × 125
 *    bytes) and starts full; it refills at `rate` (rateKbps × 125 bytes per
 *    second), lazily, from the milliseconds elapsed since the last frame (the
 *    pipeline's clock: one reading per batch).
 *  - A frame passes when the bucket holds at least its length (counted as
 *    the frame is on the port: without tunnel header), which it then takes;
 *    otherwise it is dropped and counted `policed`. Policing, not shaping:
 *    nothing is queued, so nothing is delayed and nothing allocates.
 *  - Ingress: frames a port sends into the switch (its VM's uploads), before
 *    anything else is done with them. Egress: frames the switch hands to the
 *    port, at the flush, after switching.
 *  - A burst below the largest frame would drop every such frame: the
 *    burst must be at least MIN_BURST_KB (9000-byte jumbo frames pass); OVS
 *    advises a burst of at least a tenth of the rate for TCP, which is the
 *    default.
 */

// The policer rule (rates, bursts, their limits) is wire's: the controller's API checks the same.
export {
  MAX_RATE_KBPS,
  MIN_BURST_KB,
  MAX_BURST_KB,
  defaultBurstKb,
  policerSpecProblem,
  type PolicerSpec,
  type PortQos,
} from '@dvs/wire';
import type { PolicerSpec } from '@dvs/wire';

export class TokenBucket {
  private readonly bytesPerMs: number;
  private readonly burstBytes: number;
  /**
   * [tokens, last refill time]: doubles kept in a typed array, because a
   * double object field is a boxed number in V8 and every store to it would
   * allocate (a GC per million frames, datapath-alloc.test.ts).
   */
  private readonly state = new Float64Array(2);
  /** Frames this bucket refused. */
  policed = 0;

  constructor(
    readonly spec: PolicerSpec,
    now: number,
  ) {
    this.bytesPerMs = spec.rateKbps / 8;
    this.burstBytes = spec.burstKb * 125;
    this.state[0] = this.burstBytes;
    this.state[1] = now;
  }

  /** Takes `bytes` tokens when the bucket holds them (true), or refuses the frame and counts it (false). */
  take(bytes: number, now: number): boolean {
    const state = this.state;
    if (now > state[1]) {
      const tokens = state[0] + (now - state[1]) * this.bytesPerMs;
      state[0] = tokens < this.burstBytes ? tokens : this.burstBytes;
      state[1] = now;
    }
    if (state[0] < bytes) {
      this.policed++;
      return false;
    }
    state[0] -= bytes;
    return true;
  }
}
