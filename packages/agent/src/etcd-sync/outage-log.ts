/**
 * Logs an etcd outage once, not once per retry: the first failure logs a
 * warning, further failures are silent until a success logs the recovery
 * with the outage's length.
 */
import type { SyncLogger } from './sync-logger.js';

export class OutageLog {
  private since: number | null = null;

  constructor(
    private readonly log: SyncLogger,
    private readonly clock: () => number = Date.now,
    private readonly onChange: (down: boolean) => void = () => undefined,
  ) {}

  get down(): boolean {
    return this.since !== null;
  }

  failed(what: string, error: Error): void {
    if (this.since !== null) return;
    this.since = this.clock();
    this.log.warn('etcd unreachable: forwarding on cached tables, retrying with backoff', {
      during: what,
      error: error.message,
    });
    this.onChange(true);
  }

  succeeded(): void {
    if (this.since === null) return;
    const ms = this.clock() - this.since;
    this.since = null;
    this.log.info('etcd reachable again', { outageMs: ms });
    this.onChange(false);
  }
}
