// @dvs/etcd/testing: a private etcd for tests, the lab and benchmarks, and a proxy that cuts it off.
export { EtcdServer, EtcdServerError, ETCD_BINARY, type EtcdServerOptions, type EtcdServerTls } from './etcd-server.js';
export { TcpProxy } from './tcp-proxy.js';
