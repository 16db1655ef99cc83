/**
 * Follows the tables an agent needs — `fdb/`, `flood/`, `hosts/`,
 * `networks/` — with one watch over the key range that holds exactly those
 * four sections (they sort next to each other under the prefix). A full read
 * at revision R, then a watch from R+1; etcd3 re-attaches the watch after a
 * disconnect from the last revision seen; a compacted revision cancels the
 * watch and we read everything again (the sink diffs it against its cache).
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { Backoff } from './backoff.js';
import type { OutageLog } from './outage-log.js';

export interface TableSink {
  reset(kvs: { key: string; value: Buffer; modRevision: number }[], revision: number): void;
  put(kv: { key: string; value: Buffer; modRevision: number }): void;
  delete(key: string, revision: number): void;
  /** A watch response was fully delivered (one apply() per response). */
  flush(): void;
}

function kvOf(kv: IKeyValue): { key: string; value: Buffer; modRevision: number } {
  return { key: kv.key.toString(), value: kv.value, modRevision: Number(kv.mod_revision) };
}

export class TableWatch {
  private watcher: Watcher | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private endWatch: ((reason: string) => void) | null = null;
  private readonly backoff = new Backoff();
  revision = 0;
  /** Full reads done (1 = initial load; more = resyncs). */
  loads = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly start: string,
    private readonly end: string,
    private readonly sink: TableSink,
    private readonly outage: OutageLog,
    private readonly onResync: (reason: string) => void = () => undefined,
  ) {}

  run(): void {
    this.loop ??= this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.backoff.wake();
    this.endWatch?.('stopped');
    const w = this.watcher;
    this.watcher = null;
    if (w !== null) await Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    await this.loop;
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await this.client.getAll().inRange({ start: this.start, end: this.end }).exec();
        if (this.stopped) return;
        const revision = Number(res.header.revision);
        this.sink.reset(res.kvs.map(kvOf), revision);
        this.revision = revision;
        this.loads++;
        this.outage.succeeded();
        this.backoff.reset();
        const reason = await this.watchFrom(revision + 1);
        if (!this.stopped) this.onResync(reason);
      } catch (err) {
        if (this.stopped) return;
        this.outage.failed('reading tables', err as Error);
        await this.backoff.sleep();
      }
    }
  }

  private watchFrom(startRevision: number): Promise<string> {
    const watcher = this.client
      .watch()
      .inRange({ start: this.start, end: this.end })
      .startRevision(String(startRevision))
      .watcher();
    this.watcher = watcher;
    return new Promise<string>((resolve) => {
      this.endWatch = resolve;
      watcher.on('connected', () => this.outage.succeeded());
      watcher.on('data', (res) => {
        for (const event of res.events) {
          if (event.type === 'Put') this.sink.put(kvOf(event.kv));
          else this.sink.delete(event.kv.key.toString(), Number(event.kv.mod_revision));
        }
        this.revision = Math.max(this.revision, Number(res.header.revision));
        this.sink.flush();
        this.outage.succeeded();
      });
      watcher.on('disconnected', (err: Error) => this.outage.failed('watching tables', err));
      watcher.on('error', (err: Error) => {
        this.watcher = null;
        void watcher.cancel().catch(() => undefined);
        resolve(`watch cancelled: ${err.message}`);
      });
      watcher.on('end', () => resolve('watch ended'));
    });
  }
}
