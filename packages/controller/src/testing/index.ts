// @dvs/controller/testing: helpers for tests, the lab and benchmarks.
export { EtcdServer, EtcdServerError, ETCD_BINARY, type EtcdServerOptions } from './etcd-server.js';
export { TcpProxy } from './tcp-proxy.js';
