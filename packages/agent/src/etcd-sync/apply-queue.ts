/**
 * Applies table changes to the data path a slice at a time, so that a large
 * table (a resync of a 10,000-entry VNI) never holds the thread that forwards
 * frames for more than a slice: the data path's reads and writes run between
 * slices.
 *
 * Jobs run strictly in the order they were queued (a watch event queued after
 * a resync is applied after it). A job is a generator: it does its work (the
 * table cache's decode and diff) step by step and yields the data path
 * changes of each step, which are handed to `apply()` at once. A slice runs
 * steps until `sliceMs` has passed, then yields the thread (setImmediate,
 * after the I/O callbacks the event loop has waiting); a step is small
 * (table-state.ts RESET_STEP records), so a slice overruns by at most one.
 * When the queue was idle, the first slice runs at once: a single MAC move is
 * applied in the watch callback that brought it.
 */
import { performance } from 'node:perf_hooks';
import type { TableChange } from '../datapath/control-surface.js';

export type ApplyJob = () => Iterable<readonly TableChange[]>;

export interface ApplyQueueStats {
  /** Jobs queued and not finished. */
  pending: number;
  slices: number;
  /** The longest slice so far, ms: the longest the data path waited for the tables. */
  maxSliceMs: number;
  /**
   * The most CPU time (this process, ms) one slice used: on a loaded machine
   * a slice's wall time also counts the time the thread was not scheduled.
   */
  maxSliceCpuMs: number;
  /** Table changes handed to the data path. */
  changes: number;
  /** Jobs abandoned because a step threw (a bug; should stay 0). */
  errors: number;
}

/** Default slice: short enough that forwarding never waits more than a few ms. */
export const DEFAULT_SLICE_MS = 2;

export class ApplyQueue {
  private readonly jobs: ApplyJob[] = [];
  private current: Iterator<readonly TableChange[]> | null = null;
  private running = false;
  private scheduled: NodeJS.Immediate | null = null;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: ApplyQueueStats = {
    pending: 0,
    slices: 0,
    maxSliceMs: 0,
    maxSliceCpuMs: 0,
    changes: 0,
    errors: 0,
  };

  constructor(
    private readonly apply: (changes: readonly TableChange[]) => void,
    private readonly sliceMs = DEFAULT_SLICE_MS,
  ) {}

  /** Queues a job; runs a first slice now when nothing else is queued. */
  push(job: ApplyJob): void {
    if (this.stopped) return;
    this.jobs.push(job);
    this.stats.pending++;
    if (!this.running && this.scheduled === null) this.runSlice();
  }

  /** Resolves when every job queued so far is done. */
  idle(): Promise<void> {
    if (this.stats.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued (the agent stops). */
  stop(): void {
    this.stopped = true;
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.jobs.length = 0;
    this.current = null;
    this.stats.pending = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private runSlice(): void {
    this.scheduled = null;
    this.running = true;
    const start = performance.now();
    const cpu = process.cpuUsage();
    try {
      while (!this.stopped) {
        if (this.current === null) {
          const job = this.jobs.shift();
          if (job === undefined) break;
          this.current = job()[Symbol.iterator]();
        }
        let step: IteratorResult<readonly TableChange[]>;
        try {
          step = this.current.next();
        } catch {
          this.stats.errors++;
          step = { done: true, value: undefined };
        }
        if (step.done === true) {
          this.current = null;
          this.stats.pending--;
          continue;
        }
        if (step.value.length > 0) {
          this.apply(step.value);
          this.stats.changes += step.value.length;
        }
        if (performance.now() - start >= this.sliceMs) break;
      }
    } finally {
      this.running = false;
      const ms = performance.now() - start;
      this.stats.slices++;
      if (ms > this.stats.maxSliceMs) this.stats.maxSliceMs = ms;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      if (cpuMs > this.stats.maxSliceCpuMs) this.stats.maxSliceCpuMs = cpuMs;
    }
    if (this.stopped) return;
    if (this.current !== null || this.jobs.length > 0) this.scheduled = setImmediate(() => this.runSlice());
    else for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
