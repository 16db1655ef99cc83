// @dvs/etcd/testing: a private etcd (one server or a cluster) for tests, the lab and benchmarks,
// a proxy that cuts it off or pauses it, and dvs's production RBAC identities on it (deploy/etcd/dvs-rbac.sh).
export {
  EtcdServer,
  EtcdServerError,
  ETCD_BINARY,
  TEST_QUOTA_BACKEND_BYTES,
  type EtcdMemberSpec,
  type EtcdServerOptions,
  type EtcdServerTls,
} from './etcd-server.js';
export { EtcdCluster, type EtcdClusterOptions } from './etcd-cluster.js';
export { TcpProxy } from './tcp-proxy.js';
export { DVS_RBAC_SCRIPT, runDvsRbac, applyDvsRbac, type DvsRbac, type DvsRbacRun } from './dvs-rbac.js';
export { writeKeys } from './write-keys.js';
