/**
 * The leader's loop: whenever the view changes (debounced) and on a slow
 * tick (for dampening release timers), admit the agents' records
 * (tables/admission.ts: lease, membership, seq jumps; what is left out is
 * counted and logged once), compute the desired FDB and flood lists from
 * them and write only the difference to etcd.
 *
 * Writes go in transactions of at most WRITE_BATCH keys. Each transaction
 * checks (a) the leader's campaign key still exists and (b) every key it
 * touches still has the mod revision the view saw (or is still absent). So a
 * deposed leader cannot overwrite its successor, and an operator's static
 * entry written meanwhile through another replica is never clobbered: the
 * transaction fails, the watch brings the new state, the next round decides
 * again. A successful write is applied to the view at once (the watch echo is
 * then a no-op), so rounds do not trip over their own writes.
 */
import { encodeFdbEntry, encodeFloodList, type FdbEntryRecord, type KeyLayout } from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';
import type { ControllerMetrics } from '../metrics.js';
import { admit } from '../tables/admission.js';
import { computeTables, sameFdbEntry, sameFloodList, type MacMove } from '../tables/compute-tables.js';
import type { DampeningOptions, MacMobility } from '../tables/mobility.js';
import type { ClusterView } from '../view/cluster-view.js';
import { admissionInputs, groupIgnored, IgnoredRecords } from './ignored-records.js';
import type { Leadership } from './leadership.js';

export const WRITE_BATCH = 50;

interface WriteOp {
  key: string;
  /** Table key (`${vni}/${mac}` for fdb, vni for flood) for mobility bookkeeping. */
  tableKey: string;
  /** Null = delete. */
  value: Buffer | null;
  /** Mod revision the view saw, 0 = absent. */
  expectModRevision: number;
}

export interface ReconcilerOptions {
  dampening: DampeningOptions;
  /** False while etcd is unreachable: rounds wait (the outage is logged once elsewhere). */
  etcdUp?: () => boolean;
  debounceMs?: number;
  tickMs?: number;
  clock?: () => number;
}

export class Reconciler {
  private mobility = new Map<string, MacMobility>();
  /** Agent records the last round left out (read by status and metrics). */
  readonly ignored = new IgnoredRecords();
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly view: ClusterView,
    private readonly leadership: Leadership,
    private readonly metrics: ControllerMetrics,
    private readonly log: Logger,
    private readonly options: ReconcilerOptions,
  ) {}

  start(): void {
    this.ticker = setInterval(() => this.schedule(), this.options.tickMs ?? 5000);
    this.ticker.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ticker !== null) clearInterval(this.ticker);
    await this.running;
  }

  /** Forget mobility history (on losing leadership: a later term starts from the records). */
  resetMobility(): void {
    this.mobility = new Map();
    this.ignored.clear();
  }

  /** The leader's mobility memory (empty on a standby). */
  get mobilityState(): ReadonlyMap<string, MacMobility> {
    return this.mobility;
  }

  schedule(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running !== null) {
        this.again = true;
        return;
      }
      this.running = this.round()
        .catch((err: Error) => this.log.warn('reconcile failed; will retry', { error: err.message }))
        .finally(() => {
          this.running = null;
          if (this.again) {
            this.again = false;
            this.schedule();
          }
        });
    }, this.options.debounceMs ?? 20);
  }

  /** Runs one round now (tests, benchmarks); resolves when its writes are done. */
  async runOnce(): Promise<void> {
    await this.running;
    await this.round();
  }

  private async round(): Promise<void> {
    const guardKey = this.leadership.guardKey;
    if (guardKey === null || !this.view.loaded || this.options.etcdUp?.() === false) return;
    const now = (this.options.clock ?? Date.now)();
    const inputs = admissionInputs(this.view, this.mobility);
    const admitted = admit(inputs);
    this.noteIgnored(admitted.ignored);
    const floodNow = new Map([...this.view.flood].map(([k, v]) => [k, v.record]));
    const out = computeTables({
      networks: inputs.networks,
      hosts: this.view.liveHosts(),
      ports: admitted.ports,
      reports: admitted.reports,
      fdb: inputs.fdb,
      flood: floodNow,
      mobility: this.mobility,
      dampening: this.options.dampening,
      now,
    });
    this.metrics.reconciles++;
    this.view.expireDownHosts();

    const ops: WriteOp[] = [];
    for (const [tableKey, desired] of out.fdb) {
      const current = this.view.fdb.get(tableKey);
      if (current !== undefined && sameFdbEntry(current.record, desired)) continue;
      ops.push(this.fdbOp(tableKey, desired, current?.modRevision ?? 0));
    }
    for (const [tableKey, current] of this.view.fdb) {
      if (!out.fdb.has(tableKey)) ops.push(this.fdbOp(tableKey, null, current.modRevision, current.record));
    }
    for (const [vni, desired] of out.flood) {
      const current = this.view.flood.get(vni);
      if (current !== undefined && sameFloodList(current.record, desired)) continue;
      ops.push({
        key: this.keys.flood(vni),
        tableKey: String(vni),
        value: encodeFloodList(desired),
        expectModRevision: current?.modRevision ?? 0,
      });
    }
    for (const [vni, current] of this.view.flood) {
      if (!out.flood.has(vni)) {
        ops.push({
          key: this.keys.flood(vni),
          tableKey: String(vni),
          value: null,
          expectModRevision: current.modRevision,
        });
      }
    }

    const failedKeys = new Set<string>();
    for (let i = 0; i < ops.length; i += WRITE_BATCH) {
      const batch = ops.slice(i, i + WRITE_BATCH);
      if (!(await this.write(guardKey, batch))) for (const op of batch) failedKeys.add(op.tableKey);
    }

    // Keep mobility history only for keys whose decision reached etcd.
    const next = new Map(out.mobility);
    for (const key of failedKeys) {
      const old = this.mobility.get(key);
      if (old === undefined) next.delete(key);
      else next.set(key, old);
    }
    this.mobility = next;
    for (const move of out.moves) if (!failedKeys.has(`${move.vni}/${move.mac}`)) this.logMove(move);
  }

  private fdbOp(
    tableKey: string,
    desired: FdbEntryRecord | null,
    expectModRevision: number,
    current?: FdbEntryRecord,
  ): WriteOp {
    const record = (desired ?? current)!;
    return {
      key: this.keys.fdb(record.vni, record.mac),
      tableKey,
      value: desired === null ? null : encodeFdbEntry(desired),
      expectModRevision,
    };
  }

  private async write(guardKey: string, batch: WriteOp[]): Promise<boolean> {
    let txn = this.client.if(guardKey, 'Create', '>', 0);
    for (const op of batch) {
      txn =
        op.expectModRevision === 0
          ? txn.and(op.key, 'Create', '==', 0)
          : txn.and(op.key, 'Mod', '==', op.expectModRevision);
    }
    txn = txn.then(
      ...batch.map((op) =>
        op.value === null ? this.client.delete().key(op.key) : this.client.put(op.key).value(op.value),
      ),
    );
    const res = await txn.commit();
    if (!res.succeeded) {
      this.metrics.writeConflicts++;
      this.log.debug('leader write refused (deposed, or keys changed meanwhile)', { keys: batch.length });
      await this.leadership.checkStillLeader();
      return false;
    }
    const revision = Number(res.header.revision);
    this.metrics.reconcileWrites += batch.length;
    for (const op of batch) {
      if (op.value === null) this.view.delete(op.key, revision);
      else this.view.put({ key: op.key, value: op.value, modRevision: revision, createRevision: revision, lease: '0' });
    }
    return true;
  }

  /** Counts what is newly ignored and logs it, one line per host, kind and reason. */
  private noteIgnored(list: Parameters<IgnoredRecords['update']>[0]): void {
    const fresh = this.ignored.update(list);
    for (const g of groupIgnored(fresh)) {
      this.log.warn('ignoring agent records', {
        host: g.host,
        kind: g.kind,
        reason: g.reason,
        count: g.count,
        key: g.example.key,
        detail: g.example.detail,
      });
    }
  }

  private logMove(move: MacMove): void {
    if (move.frozen) {
      this.metrics.macMovesFrozen++;
      this.log.warn('MAC move refused: duplicate, frozen', { ...move });
    } else {
      this.metrics.macMoves++;
      this.log.info('MAC moved', { ...move });
    }
  }
}
