// @dvs/controller/testing: helpers for tests, the lab and benchmarks.
export { EtcdServer, EtcdServerError, ETCD_BINARY, type EtcdServerOptions, type EtcdServerTls } from './etcd-server.js';
export { TcpProxy } from './tcp-proxy.js';
