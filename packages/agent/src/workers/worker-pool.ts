/**
 * N data-path workers on one multi-queue TAP and N SO_REUSEPORT tunnel
 * sockets (docs/multi-core.md). The main thread keeps the tables' one
 * writer: apply() posts a batch of changes to every worker, in order, with a
 * generation number, and resolves once every worker applied it. Workers run
 * the unchanged DataPath on their own event loops; the kernel spreads the
 * VM's flows over the TAP queues and the tunnel's flows over the sockets.
 *
 * A prototype for measuring 1 against N workers (the `workers` benchmark):
 * one access port, one encap, static tables; the agent does not use it.
 */
import { Worker } from 'node:worker_threads';
import { AgentError } from '../agent-error.js';
import type { ApplyResult, DataPathEvents, TableChange } from '../datapath/control-surface.js';
import { TypedEmitter } from '../datapath/typed-emitter.js';
import type { FromWorker, ToWorker, WorkerCounters, WorkerSetup } from './worker-messages.js';

export interface WorkerPoolOptions extends Omit<WorkerSetup, 'index'> {
  /** Worker threads, each with its own TAP queue and tunnel socket: 1..16. */
  workers: number;
  signal?: AbortSignal;
}

export interface WorkerPoolEvents {
  /** A worker learned a MAC on its queue of the port (in its own table; the others learn it from their own frames). */
  'mac:local': [DataPathEvents['mac:local'] & { worker: number }];
  /** A worker thread ended other than by close() (it crashed): its queue is no longer read. */
  'worker:exit': [{ worker: number; code: number }];
}

export const MAX_WORKERS = 16;
const WORKER_URL = new URL('./worker-thread.js', import.meta.url);

export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  private generation = 0;
  private nextAsk = 0;
  private closing = false;
  private readonly waiting = new Map<string, (message: FromWorker) => void>();

  private constructor(private readonly threads: readonly Worker[]) {
    super();
  }

  get size(): number {
    return this.threads.length;
  }

  /**
   * Starts the workers one after the other (the first creates the TAP, each
   * next one attaches a queue). Throws AgentError DVS_BAD_ARGUMENT (workers
   * out of range) or the first failing worker's code (DVS_ADDRESS_IN_USE,
   * DVS_DEVICE_BUSY, …); then every worker started is stopped again.
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const { workers, signal, ...setup } = options;
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
      throw new AgentError('DVS_BAD_ARGUMENT', `workers must be 1..${MAX_WORKERS}, got ${workers}`);
    const threads: Worker[] = [];
    const pool = new WorkerPool(threads);
    try {
      for (let index = 0; index < workers; index++) {
        signal?.throwIfAborted();
        const data: WorkerSetup = { ...setup, index, tap: index === 0 ? setup.tap : { ...setup.tap, mtu: undefined } };
        const thread = new Worker(WORKER_URL, { workerData: data });
        threads.push(thread);
        pool.listen(thread, index);
        const first = await pool.reply(`ready:${index}`);
        if (first.kind === 'worker:failed')
          throw new AgentError(first.code, `worker ${index} could not start: ${first.message}`);
      }
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Posts one batch of changes to every worker; resolves with each worker's result, in worker order. */
  async apply(changes: readonly TableChange[]): Promise<ApplyResult[]> {
    const generation = ++this.generation;
    const replies = this.threads.map((_, i) => this.reply(`applied:${i}:${generation}`));
    this.broadcast({ kind: 'tables:apply', generation, changes });
    const results = await Promise.all(replies);
    return results.map((r) => (r.kind === 'tables:applied' ? r.result : { applied: 0, rejected: [] }));
  }

  /** Every worker's counters, in worker order. */
  async counters(): Promise<WorkerCounters[]> {
    const id = ++this.nextAsk;
    const replies = this.threads.map((_, i) => this.reply(`counters:${i}:${id}`));
    this.broadcast({ kind: 'counters:ask', id });
    return (await Promise.all(replies)).flatMap((r) => (r.kind === 'counters:report' ? [r.counters] : []));
  }

  /** Stops every worker (each closes its queue and socket) and ends the threads. Never throws. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.threads.map(async (thread, i) => {
        const stopped = this.reply(`stopped:${i}`);
        try {
          thread.postMessage({ kind: 'worker:stop' } satisfies ToWorker);
        } catch {
          // Already gone.
        }
        const timer = setTimeout(() => void thread.terminate(), 5000);
        await stopped;
        clearTimeout(timer);
        await thread.terminate();
      }),
    );
  }

  private broadcast(message: ToWorker): void {
    for (const thread of this.threads) thread.postMessage(message);
  }

  private listen(thread: Worker, index: number): void {
    thread.on('message', (message: FromWorker) => {
      if (message.kind === 'mac:local') {
        this.emit('mac:local', { ...message.event, worker: message.index });
        return;
      }
      this.waiting.get(keyOf(message, index))?.(message);
    });
    thread.on('error', (err) =>
      this.answerAll(index, { kind: 'worker:failed', index, code: 'DVS_IO', message: err.message }),
    );
    thread.on('exit', (code) => {
      this.answerAll(index, { kind: 'worker:stopped', index });
      if (!this.closing) this.emit('worker:exit', { worker: index, code });
    });
  }

  /** A worker that failed or ended answers every wait on it. */
  private answerAll(index: number, message: FromWorker): void {
    for (const [key, resolve] of [...this.waiting]) if (key.split(':')[1] === String(index)) resolve(message);
  }

  /** The next message answering `key` (or the worker's failure/exit, which answers every wait on it). */
  private reply(key: string): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.waiting.set(key, (message) => {
        this.waiting.delete(key);
        resolve(message);
      });
    });
  }
}

function keyOf(message: FromWorker, index: number): string {
  switch (message.kind) {
    case 'worker:ready':
    case 'worker:failed':
      return `ready:${index}`;
    case 'tables:applied':
      return `applied:${index}:${message.generation}`;
    case 'counters:report':
      return `counters:${index}:${message.id}`;
    case 'worker:stopped':
      return `stopped:${index}`;
    case 'mac:local':
      return '';
  }
}
