/**
 * The last N probes sent to one peer: a ring of (seq, send time, RTT). A probe
 * counts for loss only once it is final — answered, or unanswered for longer
 * than the detection time — so probes still in flight never show as loss.
 */

export interface RttStats {
  /** RTT of the most recent reply in ms; null before any. */
  last: number | null;
  avg: number | null;
  /** 99th percentile (nearest rank) over the window. */
  p99: number | null;
}

const LOST = -1;

export class ProbeWindow {
  private readonly seqs: Float64Array;
  private readonly sentAt: Float64Array;
  /** RTT in ms; NaN while unanswered; LOST once declared lost. */
  private readonly rtt: Float64Array;
  private count = 0;
  private head = 0;
  private lastRtt: number | null = null;

  constructor(readonly size: number) {
    this.seqs = new Float64Array(size);
    this.sentAt = new Float64Array(size);
    this.rtt = new Float64Array(size);
  }

  /** Records a sent probe; the oldest falls out when the window is full. */
  sent(seq: number, at: number): void {
    this.seqs[this.head] = seq;
    this.sentAt[this.head] = at;
    this.rtt[this.head] = NaN;
    this.head = (this.head + 1) % this.size;
    if (this.count < this.size) this.count++;
  }

  /**
   * Marks probe `seq` answered at `at`. Returns the RTT, or null when the seq
   * is not in the window or already answered (duplicate or forged reply).
   */
  answered(seq: number, at: number): number | null {
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head - 1 - i + this.size) % this.size;
      if (this.seqs[slot] !== seq) continue;
      if (!Number.isNaN(this.rtt[slot])) return null;
      const rtt = Math.max(0, at - this.sentAt[slot]);
      this.rtt[slot] = rtt;
      this.lastRtt = rtt;
      return rtt;
    }
    return null;
  }

  /** Loss in percent over final probes (answered, or unanswered after `timeoutMs`); null when none is final. */
  lossPercent(now: number, timeoutMs: number): number | null {
    let final = 0;
    let lost = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.rtt[i] === LOST) {
        final++;
        lost++;
      } else if (!Number.isNaN(this.rtt[i])) final++;
      else if (now - this.sentAt[i] >= timeoutMs) {
        final++;
        lost++;
      }
    }
    return final === 0 ? null : (lost / final) * 100;
  }

  rttStats(): RttStats {
    const rtts: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.rtt[i] >= 0) rtts.push(this.rtt[i]);
    if (rtts.length === 0) return { last: this.lastRtt, avg: null, p99: null };
    rtts.sort((a, b) => a - b);
    const avg = rtts.reduce((sum, r) => sum + r, 0) / rtts.length;
    const p99 = rtts[Math.max(0, Math.ceil(0.99 * rtts.length) - 1)];
    return { last: this.lastRtt, avg, p99 };
  }

  /**
   * Declares every unanswered probe lost (the tunnel just went down: they will
   * not be answered in time to matter). A late reply to one is then ignored.
   */
  expirePending(): void {
    for (let i = 0; i < this.count; i++) if (Number.isNaN(this.rtt[i])) this.rtt[i] = LOST;
  }

  clear(): void {
    this.count = 0;
    this.head = 0;
  }
}
