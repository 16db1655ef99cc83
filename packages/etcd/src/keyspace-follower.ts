/**
 * Follows one etcd key range into a sink: a full read at revision R (in
 * pages, all pinned to R: range-read.ts), then a watch from R+1. A watch that
 * disconnects is started again from the last revision delivered, so an etcd
 * outage costs no full read. When etcd cancels the watch (the revision it
 * would resume from was compacted) the follower reads everything again (the
 * sink's `reset` receives the whole range and works out the difference
 * itself). A failed read is retried with backoff until stop().
 *
 * Outages are announced once: `etcd:down` on the first failure, however many
 * retries fail, and `etcd:up` when the follower is live again. Agent (its
 * tables) and controller (the whole keyspace) both follow etcd through it.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, Watcher } from 'etcd3';
import { Backoff } from './backoff.js';
import { readRange, toFollowedKv, type FollowedKv, type KeyRange } from './range-read.js';

export type { FollowedKv, KeyRange };

export interface KeyspaceSink {
  /** The whole range at `revision` (initial load or resync). */
  reset(kvs: FollowedKv[], revision: number): void;
  put(kv: FollowedKv): void;
  delete(key: string, revision: number): void;
  /** Called after each watch response, once all its events were delivered. */
  flush?(): void;
}

export interface KeyspaceFollowerOptions {
  /** Names the range in `etcd:down`'s `during` ("reading tables"). Default 'keyspace'. */
  label?: string;
  /** Delay between failed reads: `minMs` doubling up to `maxMs`, jittered. Default 200 ms .. 3 s. */
  backoff?: { minMs: number; maxMs: number };
  /** Keys per page of the full read (default 1000; see range-read.ts). */
  pageSize?: number;
}

export interface KeyspaceFollowerEvents {
  /** The first failure of an outage; `during` says what failed ("reading keyspace", "watching keyspace"). */
  'etcd:down': [error: Error, during: string];
  /** Live again (the watch connected or delivered), at `revision`. */
  'etcd:up': [revision: number];
  /** The watch ended (its start revision was compacted, or etcd cancelled it): reading everything again. */
  'keyspace:resync': [reason: string];
}

export class KeyspaceFollower extends EventEmitter<KeyspaceFollowerEvents> {
  private watcher: Watcher | null = null;
  private stopped = false;
  private down = true;
  private downAnnounced = false;
  private loop: Promise<void> | null = null;
  private endWatch: ((reason: string) => void) | null = null;
  private readonly backoff: Backoff;
  private readonly label: string;
  private readonly pageSize: number | undefined;
  private readonly abort = new AbortController();
  /** Highest revision etcd reported while following (what the sink has is at least this fresh). */
  revision = 0;
  /** Every event up to this revision reached the sink: a new watch starts after it. */
  private delivered = 0;
  /** Full reads done (1: the initial load; more: resyncs). */
  loads = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly range: KeyRange,
    private readonly sink: KeyspaceSink,
    options: KeyspaceFollowerOptions = {},
  ) {
    super();
    this.label = options.label ?? 'keyspace';
    this.pageSize = options.pageSize;
    this.backoff = new Backoff(options.backoff?.minMs ?? 200, options.backoff?.maxMs ?? 3000);
  }

  /** True while the last read or watch event succeeded. */
  get live(): boolean {
    return !this.down;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.backoff.wake();
    this.endWatch?.('stopped');
    const w = this.watcher;
    this.watcher = null;
    // cancel() waits for etcd's answer; do not hang a shutdown on a dead etcd.
    if (w !== null) await Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    await this.loop;
  }

  private markDown(error: Error, during: string): void {
    this.down = true;
    if (this.downAnnounced) return;
    this.downAnnounced = true;
    this.emit('etcd:down', error, `${during} ${this.label}`);
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.downAnnounced = false;
    this.emit('etcd:up', this.revision);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const { kvs, revision } = await readRange(this.client, this.range, {
          signal: this.abort.signal,
          ...(this.pageSize !== undefined ? { pageSize: this.pageSize } : {}),
        });
        if (this.stopped) return;
        this.sink.reset(kvs, revision);
        this.revision = revision;
        this.delivered = revision;
        this.loads++;
        this.markUp();
        this.backoff.reset();
        const ended = await this.watchUntilCancelled();
        if (this.stopped) return;
        this.emit('keyspace:resync', ended);
      } catch (err) {
        if (this.stopped) return;
        this.markDown(err as Error, 'reading');
        await this.backoff.sleep();
      }
    }
  }

  /**
   * Watches from the revision after the last one delivered; a watch that
   * disconnects is started again from there (after a backoff), so an outage
   * costs no full read. Resolves when etcd cancels the watch (that revision
   * was compacted): the caller then reads everything again.
   */
  private async watchUntilCancelled(): Promise<string> {
    for (;;) {
      const ended = await this.watchFrom(this.delivered + 1);
      if (this.stopped || ended.cancelled) return ended.reason;
      await this.backoff.sleep();
      if (this.stopped) return 'stopped';
    }
  }

  /**
   * One etcd3 watcher, until etcd cancels it, its stream disconnects, or
   * stop(). etcd3 would re-attach a disconnected watcher itself, but from the
   * revision of its last *create* response: a stream that broke again before
   * the catch-up events arrived would skip them. So a disconnected watcher is
   * dropped (etcd3 is idle then: cancel() only forgets it) and the caller
   * starts another from `delivered`. A watcher etcd cancelled is already
   * detached by etcd3: cancelling it again makes etcd3 throw on etcd's answer,
   * which can stall every other watch on the stream.
   */
  private watchFrom(startRevision: number): Promise<{ reason: string; cancelled: boolean }> {
    const builder = this.client.watch();
    const ranged = 'prefix' in this.range ? builder.prefix(this.range.prefix) : builder.inRange(this.range);
    const watcher = ranged.startRevision(String(startRevision)).watcher();
    this.watcher = watcher;
    return new Promise((resolve) => {
      this.endWatch = (reason) => resolve({ reason, cancelled: false });
      watcher.on('connected', () => {
        this.markUp();
        this.backoff.reset();
      });
      watcher.on('data', (res) => {
        let last = 0;
        for (const event of res.events) {
          if (event.type === 'Put') this.sink.put(toFollowedKv(event.kv));
          else this.sink.delete(event.kv.key.toString(), Number(event.kv.mod_revision));
          last = Math.max(last, Number(event.kv.mod_revision));
        }
        // A catch-up batch may stop short of its header's revision; a progress
        // notification (no events) says everything up to the header was sent.
        this.delivered = Math.max(this.delivered, res.events.length > 0 ? last : Number(res.header.revision));
        this.revision = Math.max(this.revision, Number(res.header.revision));
        this.sink.flush?.();
        this.markUp();
      });
      watcher.on('disconnected', (err: Error) => {
        this.markDown(err, 'watching');
        if (this.watcher === watcher) this.watcher = null;
        void watcher.cancel().catch(() => undefined);
        resolve({ reason: `watch disconnected: ${err.message}`, cancelled: false });
      });
      watcher.on('error', (err: Error) => {
        if (this.watcher === watcher) this.watcher = null;
        resolve({ reason: `watch cancelled: ${err.message}`, cancelled: true });
      });
      watcher.on('end', () => resolve({ reason: 'watch ended', cancelled: true }));
    });
  }
}
