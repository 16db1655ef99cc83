/**
 * The leader's loop: whenever the view changes (debounced) and on a slow
 * tick (dampening release timers, the stale policy), compute the tables
 * where something changed (incremental-tables.ts: admission of the records
 * that changed, then the FDB of the MACs and the flood lists of the VNIs that
 * depend on them) and write only the difference to etcd.
 *
 * Writes go in bounded transactions (@dvs/etcd txnBatches: etcd refuses a
 * request above 1.5 MiB and a transaction of more than 128 operations by
 * default), up to WRITES_IN_FLIGHT at once. Each
 * transaction checks (a) the leader's campaign key still exists and (b) every
 * key it touches still has the mod revision the view saw (or is still
 * absent). So a deposed leader cannot overwrite its successor, and an
 * operator's static entry written meanwhile through another replica is never
 * clobbered: the transaction fails, the watch brings the new state, the next
 * round decides again. A successful write is applied to the view at once (the
 * watch echo is then a no-op), so rounds do not trip over their own writes.
 */
import { encodeFdbEntry, encodeFloodList, type KeyLayout } from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { txnBatches } from '@dvs/etcd';
import type { Logger } from '../log.js';
import type { ControllerMetrics } from '../metrics.js';
import type { MacMove } from '../tables/compute-tables.js';
import type { DampeningOptions, MacMobility } from '../tables/mobility.js';
import type { ClusterView } from '../view/cluster-view.js';
import { groupIgnored, type IgnoredRecords } from './ignored-records.js';
import { IncrementalTables, type RoundPlan } from './incremental-tables.js';
import type { Leadership } from './leadership.js';

export const WRITES_IN_FLIGHT = 4;

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
  readonly tables: IncrementalTables;
  private tickDue = false;
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
  ) {
    this.tables = new IncrementalTables(view, options.dampening);
    view.changeListener = (change) => this.tables.note(change);
  }

  /** Agent records the tables leave out now (read by status and metrics). */
  get ignored(): IgnoredRecords {
    return this.tables.ignored;
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.tickDue = true;
      this.schedule();
    }, this.options.tickMs ?? 5000);
    this.ticker.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ticker !== null) clearInterval(this.ticker);
    await this.running;
  }

  /** Forget mobility history and every verdict (a new term starts from the records). */
  resetMobility(): void {
    this.tables.reset();
  }

  /** The leader's mobility memory (empty on a standby). */
  get mobilityState(): ReadonlyMap<string, MacMobility> {
    return this.tables.mobility;
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
    this.view.expireStale(now);
    this.view.expireDownHosts();
    if (this.tickDue) {
      this.tickDue = false;
      this.tables.touchTimeDependent(now);
    }
    if (!this.tables.dirty) return;
    const plan = this.tables.plan(now);
    this.noteIgnored(plan);
    this.metrics.reconciles++;
    this.metrics.computedMacs += plan.computed.macs;

    const ops: WriteOp[] = [];
    for (const w of plan.fdb) {
      const record = (w.desired ?? w.current?.record)!;
      ops.push({
        key: this.keys.fdb(record.vni, record.mac),
        tableKey: w.tableKey,
        value: w.desired === null ? null : encodeFdbEntry(w.desired),
        expectModRevision: w.current?.modRevision ?? 0,
      });
    }
    for (const w of plan.flood) {
      ops.push({
        key: this.keys.flood(w.vni),
        tableKey: String(w.vni),
        value: w.desired === null ? null : encodeFloodList(w.desired),
        expectModRevision: w.current?.modRevision ?? 0,
      });
    }
    const { failed, errored } = await this.writeAll(guardKey, ops);
    this.tables.commit(plan, failed);
    for (const move of plan.moves) if (!failed.has(`${move.vni}/${move.mac}`)) this.logMove(move);
    // What was just written is computed once more against what it now is (a seq
    // that moved re-judges reports); after an etcd error, the tick or etcd:up retries.
    if (this.tables.dirty && !errored) this.schedule();
  }

  /** Writes `ops` in bounded transactions, a few at once; returns the table keys whose transaction failed. */
  private async writeAll(
    guardKey: string,
    ops: readonly WriteOp[],
  ): Promise<{ failed: Set<string>; errored: boolean }> {
    const batches = txnBatches(ops, (op) => op.key.length + (op.value?.length ?? 0));
    const failed = new Set<string>();
    const outcome: { error: Error | null } = { error: null };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const mine = batches[next++]!;
        let ok = false;
        try {
          ok = await this.write(guardKey, mine);
        } catch (err) {
          outcome.error ??= err as Error;
        }
        if (!ok) for (const op of mine) failed.add(op.tableKey);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, batches.length) }, worker));
    if (outcome.error !== null)
      this.log.warn('leader writes failed; will retry', { error: outcome.error.message, keys: failed.size });
    return { failed, errored: outcome.error !== null };
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
    this.metrics.reconcileTransactions++;
    for (const op of batch) this.view.applyOwnWrite(op.key, op.value, revision);
    return true;
  }

  /** Logs what is newly ignored (counted when the tables set it), one line per host, kind and reason. */
  private noteIgnored(plan: RoundPlan): void {
    for (const g of groupIgnored(plan.freshlyIgnored)) {
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
