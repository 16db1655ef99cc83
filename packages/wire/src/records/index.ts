// Control-plane records (msgpackr, versioned) and the etcd key layout.
// Every decodeX returns the record or a RecordError, never throws.
export { RecordError, isRecordError, type RecordErrorCode } from './record-error.js';
export type { SchemaVersion } from './codec.js';
export { isHostId, isPortName } from './field-reader.js';
export { compareVteps, type VtepRecord } from './vtep.js';
export {
  MAX_HOST_LABELS,
  LABEL_SYNTAX,
  isLabelKey,
  isLabelValue,
  isLabelText,
  parseLabel,
  hasLabel,
} from './host-labels.js';
export { HOST_RECORD_VERSION, encodeHost, decodeHost, hostVtepFor, type HostRecord } from './host.js';
export {
  PORT_RECORD_VERSION,
  PORT_STATES,
  PORT_KINDS,
  encodePort,
  decodePort,
  type PortRecord,
  type PortBinding,
  type PortMode,
  type PortState,
  type PortKind,
} from './port.js';
export { REPORT_RECORD_VERSION, MAX_SEQ, encodeReport, decodeReport, type ReportRecord } from './report.js';
export {
  NETWORK_RECORD_VERSION,
  FLOOD_MODES,
  NETWORK_NAME,
  MIN_OVERLAY_MTU,
  MAX_OVERLAY_MTU,
  DEFAULT_OVERLAY_MTU,
  isValidOverlayMtu,
  MAX_EXTERNAL_VTEPS,
  MAX_ALLOWED_HOSTS,
  MAX_ALLOWED_LABELS,
  encodeNetwork,
  decodeNetwork,
  networkIsRestricted,
  networkAdmitsHost,
  networkFlowExport,
  flowExportText,
  FLOW_EXPORTED,
  type NetworkFlowExport,
  type NetworkRecord,
  type ExternalVtepRecord,
  type FloodMode,
} from './network.js';
export {
  FDB_ENTRY_RECORD_VERSION,
  encodeFdbEntry,
  decodeFdbEntry,
  type FdbEntryRecord,
  type FdbOrigin,
} from './fdb-entry.js';
export {
  FLOOD_LIST_RECORD_VERSION,
  MAX_FLOOD_MEMBERS,
  encodeFloodList,
  decodeFloodList,
  type FloodListRecord,
  type FloodMember,
} from './flood-list.js';
export {
  TUNNEL_STATUS_RECORD_VERSION,
  TUNNEL_STATES,
  MAX_TUNNEL_PEERS,
  MAX_STATUS_CONFLICTS,
  encodeTunnelStatus,
  decodeTunnelStatus,
  type TunnelStatusRecord,
  type LearnConflictRecord,
  type PeerTunnelStatus,
  type TunnelRtt,
  type TunnelState,
} from './tunnel-status.js';
export {
  KeyLayout,
  DEFAULT_KEY_PREFIX,
  KEY_LAYOUT_VERSION,
  CONTROLLER_ELECTION_NAME,
  type ParsedKey,
  type KeyKind,
} from './keys.js';
export {
  KEYSPACE_LAYOUT_RECORD_VERSION,
  encodeKeyspaceLayout,
  decodeKeyspaceLayout,
  type KeyspaceLayoutRecord,
} from './keyspace-layout.js';
export {
  TABLE_DIGEST_RECORD_VERSION,
  RESYNC_REQUEST_RECORD_VERSION,
  MAX_DIGEST_DIFF,
  SetDigest,
  digestOf,
  vtepDigestMember,
  fdbDigestMember,
  encodeTableDigest,
  decodeTableDigest,
  encodeResyncRequest,
  decodeResyncRequest,
  type TableDigest,
  type VniDigest,
  type DigestDiff,
  type TableDigestRecord,
  type ResyncRequestRecord,
} from './table-digest.js';
export {
  MIRROR_RECORD_VERSION,
  MIRROR_DIRECTIONS,
  MIRROR_NAME,
  MAX_MIRROR_SAMPLE_EVERY,
  MAX_MIRROR_SOURCES,
  encodeMirror,
  decodeMirror,
  mirrorConfigProblem,
  type MirrorRecord,
  type MirrorPortRef,
  type MirrorDirection,
  type MirrorShape,
  type MirrorProblem,
} from './mirror.js';
export {
  PORT_QOS_RECORD_VERSION,
  MAX_RATE_KBPS,
  MIN_BURST_KB,
  MAX_BURST_KB,
  defaultBurstKb,
  policerSpecProblem,
  encodePortQos,
  decodePortQos,
  type PolicerSpec,
  type PortQos,
  type PortQosRecord,
} from './port-qos.js';
export {
  FLOW_EXPORT_RECORD_VERSION,
  FLOW_EXPORTERS,
  encodeSflowRecord,
  decodeSflowRecord,
  encodeIpfixRecord,
  decodeIpfixRecord,
  type FlowExporterName,
  type SflowRecord,
  type IpfixRecord,
} from './flow-export.js';
