/**
 * Follows the tables this host needs, and only those: the networks and host
 * records, mirrors, port QoS and the cluster's flow export (one range, for
 * every VNI), and for each VNI this host has a port
 * in, its FDB entries (`fdb/<vni>/`) and its flood list (`flood/<vni>`) —
 * two more watches per VNI, started when a port joins the VNI and stopped
 * when its last port leaves (its entries then leave the data path).
 *
 * Every follower (@dvs/etcd KeyspaceFollower) reads its range in pages and
 * watches it from the next revision; what it delivers goes into the table
 * cache (table-state.ts) and out to the data path through one ApplyQueue, in
 * order, a slice at a time.
 */
import { EventEmitter } from 'node:events';
import type { KeyLayout } from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { KeyspaceFollower, type FollowedKv, type KeyRange } from '@dvs/etcd';
import type { TableChange } from '../datapath/control-surface.js';
import { ApplyQueue } from './apply-queue.js';
import type { OutageLog } from './outage-log.js';
import type { SyncLogger } from './sync-logger.js';
import type { TableScope, TableState } from './table-state.js';

export interface TableFollowerEvents {
  /** A full read of one scope was applied (initial load or resync). */
  'sync:loaded': [revision: number, scope: TableScope];
  'sync:resync': [reason: string];
}

export interface TableFollowerOptions {
  client: Etcd3;
  keys: KeyLayout;
  tables: TableState;
  outage: OutageLog;
  log: SyncLogger;
  /** Hands changes to the data path (one call per step). */
  apply: (changes: readonly TableChange[]) => void;
  /** After the cache changed: `key` the key that changed, null after a full read. */
  changed: (key: string | null) => void;
  sliceMs?: number;
  pageSize?: number;
}

/** Resyncs are logged at most this often (a compaction makes every VNI's follower read again). */
const RESYNC_LOG_MS = 10_000;

interface Followed {
  followers: KeyspaceFollower[];
  loaded: Set<KeyspaceFollower>;
}

export class TableFollower extends EventEmitter<TableFollowerEvents> {
  readonly queue: ApplyQueue;
  private readonly base: Followed;
  private readonly vnis = new Map<number, Followed>();
  private started = false;
  private stopped = false;
  private lastResyncLog = 0;
  private resyncsSinceLog = 0;

  constructor(private readonly options: TableFollowerOptions) {
    super();
    this.queue = new ApplyQueue(options.apply, options.sliceMs);
    // flow-export/ .. networks/: flow-export/, hosts/, limits/, mirrors/ and networks/ (and the `layout` key, ignored).
    const base = this.follower(
      { start: options.keys.section('flow-export'), end: options.keys.prefix + 'networks0' },
      { kind: 'base' },
      'tables',
    );
    this.base = { followers: [base], loaded: new Set() };
  }

  /** VNIs whose FDB and flood list are followed. */
  get followedVnis(): number[] {
    return [...this.vnis.keys()].sort((a, b) => a - b);
  }

  /** True once every followed range was read and applied at least once. */
  get loaded(): boolean {
    if (this.base.loaded.size < this.base.followers.length) return false;
    for (const f of this.vnis.values()) if (f.loaded.size < f.followers.length) return false;
    return true;
  }

  /** Full reads done by every follower (one each at first; more after compactions). */
  get loads(): number {
    let n = 0;
    for (const f of [this.base, ...this.vnis.values()]) for (const x of f.followers) n += x.loads;
    return n;
  }

  get live(): boolean {
    return this.base.followers.every((f) => f.live);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const f of this.base.followers) f.start();
    for (const v of this.vnis.values()) for (const f of v.followers) f.start();
  }

  /** Follows exactly these VNIs from now on. */
  follow(vnis: ReadonlySet<number>): void {
    if (this.stopped) return;
    for (const vni of vnis) {
      if (this.vnis.has(vni)) continue;
      const followed: Followed = {
        followers: [
          this.follower({ prefix: this.options.keys.fdbOf(vni) }, { kind: 'fdb', vni }, `VNI ${vni} FDB`),
          this.follower(
            { start: this.options.keys.flood(vni), end: this.options.keys.flood(vni) + '\0' },
            { kind: 'flood', vni },
            `VNI ${vni} flood list`,
          ),
        ],
        loaded: new Set(),
      };
      this.vnis.set(vni, followed);
      if (this.started) for (const f of followed.followers) f.start();
    }
    for (const [vni, followed] of [...this.vnis]) {
      if (vnis.has(vni)) continue;
      this.vnis.delete(vni);
      for (const f of followed.followers) void f.stop();
      const tables = this.options.tables;
      this.queue.push(function* () {
        yield* tables.dropSteps({ kind: 'fdb', vni });
        yield* tables.dropSteps({ kind: 'flood', vni });
      });
      this.options.log.info('no port left in the VNI: its FDB and flood list are no longer followed', { vni });
    }
  }

  /**
   * Reads a followed VNI's FDB and flood list afresh (a resync the controller
   * asked for): new followers replace the old, and their full read is diffed
   * against the cache like any resync.
   */
  refollow(vni: number): boolean {
    const followed = this.vnis.get(vni);
    if (followed === undefined || this.stopped) return false;
    this.vnis.delete(vni);
    for (const f of followed.followers) void f.stop();
    this.follow(new Set([...this.vnis.keys(), vni]));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [this.base, ...this.vnis.values()].flatMap((f) => f.followers);
    await Promise.all(all.map((f) => f.stop()));
    this.queue.stop();
  }

  private follower(range: KeyRange, scope: TableScope, label: string): KeyspaceFollower {
    const { tables, changed } = this.options;
    let follower: KeyspaceFollower | null = null;
    const owner = (): Followed | undefined =>
      scope.kind === 'fdb' || scope.kind === 'flood'
        ? this.vnis.get(scope.vni)
        : scope.kind === 'base'
          ? this.base
          : undefined;
    follower = new KeyspaceFollower(
      this.options.client,
      range,
      {
        reset: (kvs: FollowedKv[], revision: number) => {
          const me = follower!;
          this.queue.push(
            function* (this: TableFollower) {
              // A VNI no longer followed: its late read is not applied.
              if (owner()?.followers.includes(me) !== true) return;
              yield* tables.resetSteps(kvs, revision, scope);
              changed(null);
              owner()?.loaded.add(me);
              this.emit('sync:loaded', revision, scope);
            }.bind(this),
          );
        },
        put: (kv: FollowedKv) => {
          this.queue.push(function* () {
            yield tables.put(kv);
            changed(kv.key);
          });
        },
        delete: (key: string, revision: number) => {
          this.queue.push(function* () {
            yield tables.delete(key, revision);
            changed(key);
          });
        },
      },
      { label, ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}) },
    );
    follower.on('etcd:down', (err, during) => this.options.outage.failed(during, err));
    follower.on('etcd:up', () => this.options.outage.succeeded());
    follower.on('keyspace:resync', (reason) => this.noteResync(reason, label));
    return follower;
  }

  private noteResync(reason: string, label: string): void {
    this.emit('sync:resync', reason);
    this.resyncsSinceLog++;
    const now = Date.now();
    if (now - this.lastResyncLog < RESYNC_LOG_MS) return;
    this.options.log.info('resyncing tables', { reason, range: label, ranges: this.resyncsSinceLog });
    this.lastResyncLog = now;
    this.resyncsSinceLog = 0;
  }
}
