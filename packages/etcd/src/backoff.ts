/**
 * Exponential backoff with jitter for reconnect loops; `sleep` wakes early on
 * `wake()`. The jitter is wide (each delay anywhere from half to one and a
 * half times the current step) so that many clients failing together — a
 * thousand agents started at once, or all of them after an etcd outage —
 * spread their retries instead of coming back in lockstep.
 */
export class Backoff {
  private current: number;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly minMs = 200,
    private readonly maxMs = 5000,
  ) {
    this.current = minMs;
  }

  reset(): void {
    this.current = this.minMs;
  }

  /** Waits the current delay (±50 % jitter), then doubles it up to the maximum. */
  sleep(): Promise<void> {
    const ms = this.current * (0.5 + Math.random());
    this.current = Math.min(this.current * 2, this.maxMs);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
