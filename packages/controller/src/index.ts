// @dvs/controller public surface.
export { Controller, ControllerError, type ControllerOptions, type ControllerEvents } from './controller.js';
export { createEtcdClient, type EtcdConnectionOptions } from './etcd/etcd-client.js';
export { KeyspaceWatch, type KeyspaceSink, type MirroredKv } from './etcd/keyspace-watch.js';
export { ClusterView } from './view/cluster-view.js';
export { ApiError, type ApiErrorCode } from './api/api-error.js';
export { createJsonLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export * from './tables/index.js';
