// @dvs/etcd public surface: what agent and controller both need of etcd.
// Test servers (a real /usr/bin/etcd, a fault-injecting proxy) are at @dvs/etcd/testing.
export { Backoff } from './backoff.js';
export {
  createEtcdClient,
  MAX_RECEIVE_MESSAGE_BYTES,
  MAX_SEND_MESSAGE_BYTES,
  type EtcdConnectionOptions,
} from './etcd-client.js';
export {
  KeyspaceFollower,
  type KeyspaceFollowerEvents,
  type KeyspaceFollowerOptions,
  type KeyspaceSink,
} from './keyspace-follower.js';
export {
  DEFAULT_PAGE_SIZE,
  isCompacted,
  isMessageTooLarge,
  prefixEnd,
  readRange,
  toFollowedKv,
  type FollowedKv,
  type KeyRange,
  type RangeRead,
  type RangeReadOptions,
} from './range-read.js';
export { strayWatchResponses, watchResponseGuardInstalled } from './watch-response-guard.js';
export { TXN_MAX_BYTES, TXN_MAX_OPS, txnBatches } from './txn-batches.js';
