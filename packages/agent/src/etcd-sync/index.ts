// The agent's control plane over etcd (EtcdSync) and its parts.
export {
  EtcdSync,
  type EtcdSyncOptions,
  type EtcdSyncEvents,
  type EtcdSyncStatus,
  type LocalPortInfo,
  type MacEventSource,
} from './etcd-sync.js';
export { RESET_STEP, TableState, type TableKv, type TableScope, type TableStateSelf } from './table-state.js';
export { seqToReport, seqBound, reportLost } from './mobility-seq.js';
export { silentSyncLogger, type SyncLogger, type SyncLogFields } from './sync-logger.js';
