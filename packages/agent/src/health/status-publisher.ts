/**
 * Publishes the `status/<host>` record: at once (coalesced over `settleMs`)
 * after a tunnel changes state, and every `periodMs` for RTT, loss and
 * counters. One write in flight at a time; a failed write is reported to
 * `onError` and simply retried by the next publish (the etcd sync already
 * reconnects and logs outages). The writer puts the bytes under the host's
 * lease, so the record disappears with the agent.
 */
import { encodeTunnelStatus, type TunnelStatusRecord } from '@dvs/wire';

export interface TunnelStatusPublisherOptions {
  /** The record to publish now (AgentHealth.statusRecord). */
  record: () => TunnelStatusRecord;
  /** Writes the encoded record to `status/<host>` on the agent's lease. */
  write: (value: Buffer) => Promise<void>;
  /** Periodic refresh, ms. Default 5000. */
  periodMs?: number;
  /** Changes within this many ms are published together. Default 50. */
  settleMs?: number;
  onError?: (error: unknown) => void;
}

export class TunnelStatusPublisher {
  private readonly options: TunnelStatusPublisherOptions;
  private periodic: ReturnType<typeof setInterval> | null = null;
  private pending: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Writes completed successfully (for tests and metrics). */
  published = 0;

  constructor(options: TunnelStatusPublisherOptions) {
    this.options = options;
  }

  start(): void {
    this.stopped = false;
    this.periodic = setInterval(() => void this.publishNow(), this.options.periodMs ?? 5000);
    this.periodic.unref?.();
    void this.publishNow();
  }

  /** A tunnel changed state: publish soon. Wire it to AgentHealth's onChange. */
  changed(): void {
    if (this.stopped || this.pending !== null) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.publishNow();
    }, this.options.settleMs ?? 50);
    this.pending.unref?.();
  }

  /** Publishes now; a call while a write is in flight publishes once more after it. */
  async publishNow(): Promise<void> {
    if (this.stopped) return;
    if (this.inFlight !== null) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      do {
        this.again = false;
        try {
          await this.options.write(encodeTunnelStatus(this.options.record()));
          this.published++;
        } catch (error) {
          this.options.onError?.(error);
        }
      } while (this.again && !this.stopped);
    })();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  /** Stops the timers; resolves when a write in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.periodic !== null) clearInterval(this.periodic);
    if (this.pending !== null) clearTimeout(this.pending);
    this.periodic = null;
    this.pending = null;
    await this.inFlight;
  }
}
