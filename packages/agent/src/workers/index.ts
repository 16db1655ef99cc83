export { WorkerPool, MAX_WORKERS, type WorkerPoolEvents, type WorkerPoolOptions } from './worker-pool.js';
export type { WorkerCounters, WorkerSetup } from './worker-messages.js';
export type { BatchTally } from './batch-tally.js';
