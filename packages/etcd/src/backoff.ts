/** Exponential backoff with jitter for reconnect loops; `sleep` wakes early on `wake()`. */
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

  /** Waits the current delay (±20 % jitter), then doubles it up to the maximum. */
  sleep(): Promise<void> {
    const ms = this.current * (0.8 + Math.random() * 0.4);
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
