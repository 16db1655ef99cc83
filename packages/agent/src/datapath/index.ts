export * from './control-surface.js';
export * from './counters.js';
export { DataPath, type DataPathOptions, type DataPathEventArgs } from './data-path.js';
export { DataPathError, type DataPathErrorCode } from './data-path-error.js';
export { TUNNEL_HEADER_LENGTH } from './encap.js';
export { DEFAULT_AGING_MS, DEFAULT_FDB_LIMIT, Fdb, FdbEntry, LearnResult, type FdbOptions } from './fdb.js';
export { HEADROOM } from './pipeline.js';
export type { PortMode, PortSpec } from './port.js';
export { PROBE_ETHERTYPE, PROBE_MAC, type ProbeHandler, type ProbeTarget } from './probe.js';
export type { FdbEntryView, NetworkView, PeerView, PortView } from './views.js';
export {
  tunnelHeaderHex,
  type TraceAction,
  type TraceOutputView,
  type TraceQuery,
  type TraceReport,
  type TraceStep,
} from './trace.js';
