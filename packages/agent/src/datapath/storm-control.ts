/**
 * Storm control: a token bucket per port and traffic class (broadcast,
 * multicast, unknown unicast), in frames per second. Each bucket holds at
 * most `burst` tokens, one tenth of a second's worth (at least 1); a flooded
 * frame takes one, and a frame that finds none is dropped (`storm-control`).
 * So over any interval of t ms a class forwards at most burst + rate·t/1000
 * frames. The clock is the batch's (ms); nothing allocates per frame.
 */
import type { StormLimits } from '@dvs/wire';

/** Traffic classes storm control limits. */
export const StormClass = { Broadcast: 0, Multicast: 1, UnknownUnicast: 2 } as const;
export type StormClass = (typeof StormClass)[keyof typeof StormClass];

export type { StormLimits };

export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  private last = -1;

  /** `burst` defaults to a tenth of a second's worth (at least 1). */
  constructor(
    readonly ratePps: number,
    burst?: number,
  ) {
    this.burst = burst ?? Math.max(1, Math.ceil(ratePps / 10));
    this.tokens = this.burst;
  }

  /** ms until a token is there at `now` (0: now). */
  waitMs(now: number): number {
    if (this.last < 0) return 0;
    const tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePps) / 1000);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / this.ratePps);
  }

  /** Takes one token at time `now` (ms); false when the bucket is empty. */
  take(now: number): boolean {
    if (this.last >= 0 && now > this.last) {
      const refilled = this.tokens + ((now - this.last) * this.ratePps) / 1000;
      this.tokens = refilled > this.burst ? this.burst : refilled;
    }
    if (this.last < 0 || now > this.last) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class StormControl {
  private readonly buckets: (TokenBucket | null)[];

  constructor(readonly limits: StormLimits) {
    const bucket = (pps: number | undefined): TokenBucket | null =>
      pps === undefined || pps === 0 ? null : new TokenBucket(pps);
    this.buckets = [bucket(limits.broadcastPps), bucket(limits.multicastPps), bucket(limits.unknownUnicastPps)];
  }

  /** Whether a frame of class `c` may be flooded at `now`. */
  admit(c: StormClass, now: number): boolean {
    const bucket = this.buckets[c];
    return bucket === null || bucket.take(now);
  }
}
