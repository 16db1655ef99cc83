export * from './packet-batch.js';
export type * from './types.js';
