/**
 * Keeps this host's own keys (host, ports, MAC reports, tunnel status) in
 * etcd on one lease. Callers set the desired value of each key; a single loop
 * grants the lease, writes what changed, and after losing the lease (expired
 * during an outage, or revoked) grants a new one and writes everything again.
 * When the agent dies its keepalives stop and every key vanishes with the
 * lease, which is how the controller learns the host is gone. The lead key
 * (the host record) is written alone before the others, so a watcher sees
 * the host under its new lease before any record that rides on it.
 *
 * What changed meanwhile is written together: one transaction per batch of
 * keys (@dvs/etcd txnBatches), not one request per key — a VM with a hundred
 * MACs, or a host registering again after an outage, costs etcd a few
 * requests, not hundreds. Failed writes wait a jittered backoff, so a
 * thousand agents failing together do not come back together.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, Lease } from 'etcd3';
import { Backoff, prefixEnd, txnBatches } from '@dvs/etcd';
import type { OutageLog } from './outage-log.js';
import type { SyncLogger } from './sync-logger.js';

export interface LeasePublisherEvents {
  'lease:granted': [leaseId: string];
  'lease:lost': [reason: string];
}

export class LeasePublisher extends EventEmitter<LeasePublisherEvents> {
  private readonly desired = new Map<string, Buffer>();
  private readonly dirty = new Set<string>();
  private lease: Lease | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly backoff = new Backoff();
  leaseId: string | null = null;
  /** Transactions written and the keys they carried. */
  readonly writes = { transactions: 0, keys: 0 };

  constructor(
    private readonly client: Etcd3,
    private readonly ttlSeconds: number,
    private readonly outage: OutageLog,
    private readonly log: SyncLogger,
    /** Written alone, before any other key, whenever it is due (after every grant). */
    private readonly leadKey: string | null = null,
  ) {
    super();
  }

  set(key: string, value: Buffer): void {
    const old = this.desired.get(key);
    if (old !== undefined && old.equals(value)) return;
    this.desired.set(key, value);
    this.dirty.add(key);
    this.kick();
  }

  delete(key: string): void {
    if (!this.desired.delete(key)) return;
    this.dirty.add(key);
    this.kick();
  }

  has(key: string): boolean {
    return this.desired.has(key);
  }

  keys(): IterableIterator<string> {
    return this.desired.keys();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves when everything desired has been written under a live lease. */
  idle(): Promise<void> {
    if (this.lease !== null && this.leaseId !== null && this.dirty.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops; `revoke` removes every key at once (graceful shutdown), else they
   * expire with the lease. Keys under `leavePrefixes` are deleted first, in
   * one transaction before the revocation (so a watcher sees them withdrawn
   * while the lead key still stands: the host left, it did not lose its lease).
   */
  async stop(revoke: boolean, leavePrefixes: readonly string[] = []): Promise<void> {
    this.stopped = true;
    this.kick();
    this.backoff.wake();
    await this.loop;
    const lease = this.lease;
    this.lease = null;
    if (lease === null) return;
    if (revoke) {
      const leave = async (): Promise<void> => {
        if (leavePrefixes.length > 0) {
          await this.client.kv
            .txn({
              success: leavePrefixes.map((p) => ({
                request_delete_range: { key: Buffer.from(p), range_end: prefixEnd(p) },
              })),
            })
            .catch(() => undefined);
        }
        await lease.revoke().catch(() => undefined);
      };
      await Promise.race([leave(), new Promise((r) => setTimeout(r, 2000))]);
    } else lease.release();
  }

  private kick(): void {
    this.wakeLoop?.();
  }

  private onLost(lease: Lease, err: Error): void {
    if (this.lease !== lease) return;
    this.lease = null;
    this.leaseId = null;
    if (this.stopped) return;
    this.log.warn('lease lost: registering again', { error: err.message });
    this.emit('lease:lost', err.message);
    this.kick();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.lease === null) {
        if (!(await this.grant())) continue;
      }
      if (this.dirty.size > 0) {
        await this.writeBatch();
        continue;
      }
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      await new Promise<void>((resolve) => {
        this.wakeLoop = resolve;
      });
      this.wakeLoop = null;
    }
  }

  private async grant(): Promise<boolean> {
    const lease = this.client.lease(this.ttlSeconds);
    lease.on('lost', (err: Error) => this.onLost(lease, err));
    this.lease = lease;
    try {
      const id = await lease.grant();
      if (this.lease !== lease) return false;
      this.leaseId = id;
      this.outage.succeeded();
      this.backoff.reset();
      for (const key of this.desired.keys()) this.dirty.add(key);
      this.log.info('lease granted', { lease: id, ttl: this.ttlSeconds, keys: this.desired.size });
      this.emit('lease:granted', id);
      return true;
    } catch (err) {
      if (this.lease === lease) this.lease = null;
      lease.release();
      this.outage.failed('lease grant', err as Error);
      await this.backoff.sleep();
      return false;
    }
  }

  /** Writes one transaction: the lead key alone when due, else the next batch of what changed. */
  private async writeBatch(): Promise<void> {
    const leaseId = this.leaseId!;
    const batch =
      this.leadKey !== null && this.dirty.has(this.leadKey)
        ? [this.leadKey]
        : txnBatches(this.dirty, (key) => key.length + (this.desired.get(key)?.length ?? 0))[0]!;
    for (const key of batch) this.dirty.delete(key);
    try {
      await this.client.kv.txn({
        success: batch.map((key) => {
          const value = this.desired.get(key);
          return value === undefined
            ? { request_delete_range: { key: Buffer.from(key) } }
            : { request_put: { key: Buffer.from(key), value, lease: leaseId } };
        }),
      });
      this.writes.transactions++;
      this.writes.keys += batch.length;
      this.outage.succeeded();
      this.backoff.reset();
    } catch (err) {
      for (const key of batch) this.dirty.add(key);
      this.outage.failed('publishing host keys', err as Error);
      await this.backoff.sleep();
    }
  }
}
