/**
 * Mirrors one etcd prefix into a sink: a full read at revision R, then a
 * watch from R+1. etcd3 re-attaches the watch after a disconnect from the last
 * revision it saw; when that revision has been compacted etcd cancels the
 * watch, and we resync with a fresh full read (the sink's `reset` receives the
 * whole keyspace and works out the difference itself).
 *
 * Outages are reported once: `etcd:down` on the first failure, `etcd:up` when
 * the mirror is live again.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';

export interface MirroredKv {
  key: string;
  value: Buffer;
  modRevision: number;
  createRevision: number;
  lease: string;
}

export interface KeyspaceSink {
  /** Whole keyspace at `revision` (initial load or resync). */
  reset(kvs: MirroredKv[], revision: number): void;
  put(kv: MirroredKv): void;
  delete(key: string, revision: number): void;
}

export interface KeyspaceWatchEvents {
  'etcd:down': [error: Error];
  'etcd:up': [revision: number];
  'keyspace:resync': [reason: string];
}

export function toMirroredKv(kv: IKeyValue): MirroredKv {
  return {
    key: kv.key.toString(),
    value: kv.value,
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    lease: String(kv.lease),
  };
}

export class KeyspaceWatch extends EventEmitter<KeyspaceWatchEvents> {
  private watcher: Watcher | null = null;
  private stopped = false;
  private down = true;
  private downAnnounced = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private endWatch: ((reason: string) => void) | null = null;
  /** Highest revision applied to the sink. */
  revision = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly sink: KeyspaceSink,
    private readonly backoffMs = { min: 200, max: 3000 },
  ) {
    super();
  }

  get live(): boolean {
    return !this.down;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.endWatch?.('stopped');
    const w = this.watcher;
    this.watcher = null;
    // cancel() waits for etcd's answer; do not hang a shutdown on a dead etcd.
    if (w !== null) await Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    await this.loop;
  }

  /** Announces an outage once, however many retries fail. */
  private markDown(error: Error): void {
    this.down = true;
    if (this.downAnnounced) return;
    this.downAnnounced = true;
    this.emit('etcd:down', error);
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.downAnnounced = false;
    this.emit('etcd:up', this.revision);
  }

  private async run(): Promise<void> {
    let backoff = this.backoffMs.min;
    while (!this.stopped) {
      try {
        const res = await this.client.getAll().prefix(this.prefix).exec();
        if (this.stopped) return;
        const revision = Number(res.header.revision);
        this.sink.reset(res.kvs.map(toMirroredKv), revision);
        this.revision = revision;
        const ended = await this.watchFrom(revision + 1);
        backoff = this.backoffMs.min;
        if (this.stopped) return;
        this.emit('keyspace:resync', ended);
      } catch (err) {
        if (this.stopped) return;
        this.markDown(err as Error);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, backoff);
        });
        backoff = Math.min(backoff * 2, this.backoffMs.max);
      }
    }
  }

  /**
   * Watches until etcd cancels the watch (its start revision was compacted) or
   * stop(); resolves with the reason. A real outage shows as the next full read failing.
   */
  private async watchFrom(startRevision: number): Promise<string> {
    const watcher = this.client.watch().prefix(this.prefix).startRevision(String(startRevision)).watcher();
    this.watcher = watcher;
    return new Promise<string>((resolve) => {
      this.endWatch = resolve;
      watcher.on('connected', () => this.markUp());
      watcher.on('data', (res) => {
        for (const event of res.events) {
          if (event.type === 'Put') this.sink.put(toMirroredKv(event.kv));
          else this.sink.delete(event.kv.key.toString(), Number(event.kv.mod_revision));
        }
        this.revision = Math.max(this.revision, Number(res.header.revision));
        this.markUp();
      });
      watcher.on('disconnected', (err) => this.markDown(err));
      watcher.on('error', (err) => {
        this.watcher = null;
        void watcher.cancel().catch(() => undefined);
        resolve(`watch cancelled: ${err.message}`);
      });
      watcher.on('end', () => resolve('watch ended'));
    });
  }
}
