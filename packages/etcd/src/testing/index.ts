// @dvs/etcd/testing: a private etcd for tests, the lab and benchmarks, a proxy that cuts it off,
// and dvs's production RBAC identities on it (deploy/etcd/dvs-rbac.sh).
export { EtcdServer, EtcdServerError, ETCD_BINARY, type EtcdServerOptions, type EtcdServerTls } from './etcd-server.js';
export { TcpProxy } from './tcp-proxy.js';
export { DVS_RBAC_SCRIPT, runDvsRbac, applyDvsRbac, type DvsRbac, type DvsRbacRun } from './dvs-rbac.js';
