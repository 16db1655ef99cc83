// @dvs/etcd public surface: what agent and controller both need of etcd.
// Test servers (a real /usr/bin/etcd, a fault-injecting proxy) are at @dvs/etcd/testing.
export { Backoff } from './backoff.js';
export { createEtcdClient, type EtcdConnectionOptions } from './etcd-client.js';
export {
  KeyspaceFollower,
  toFollowedKv,
  type FollowedKv,
  type KeyRange,
  type KeyspaceFollowerEvents,
  type KeyspaceFollowerOptions,
  type KeyspaceSink,
} from './keyspace-follower.js';
