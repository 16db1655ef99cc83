export * from './packet-batch.js';
export type * from './types.js';
export * from './ip-address.js';
export { NetdevError, isNetdevError } from './errors.js';
export type { NetdevErrorCode } from './errors.js';
