export * from './packet-batch.js';
export {
  MAX_SUPER_DATAGRAM_BYTES,
  MIN_VIEW_SEGMENT,
  SuperDatagramViews,
  datagramsInSlot,
} from './super-datagram-views.js';
export type * from './types.js';
export { zeroFrameDeviceStats } from './frame-device-stats.js';
export * from './ip-address.js';
export { NetdevError, isNetdevError } from './errors.js';
export type { NetdevErrorCode } from './errors.js';
export { TapDevice, openTap, openTapSync, checkInterfaceName, INTERFACE_NAME_MAX_BYTES } from './tap-device.js';
export {
  DEFAULT_TAP_OFFLOADS,
  DEFAULT_VNET_HEADER_LENGTH,
  TAP_OFFLOADS,
  TUN_OFFLOAD_BITS,
  describeOffloads,
} from './tap-offloads.js';
export { NativeTunnelSocket, openTunnelSocket, openTunnelSocketSync } from './native-tunnel-socket.js';
export { MAX_SOURCE_PORTS, checkSourcePorts } from './source-port-pool.js';
export { DgramTunnelSocket, openDgramTunnelSocket } from './dgram-tunnel-socket.js';
export type { DgramTunnelOptions } from './dgram-tunnel-socket.js';
export { enterNetworkNamespace } from './netns.js';
export { nativeAvailable } from './native-binding.js';
export {
  AttachedDevice,
  openAttachedDevice,
  openAttachedDeviceSync,
  DEFAULT_ATTACH_BATCHING,
  DEFAULT_QDISC_BYPASS,
  DEFAULT_ATTACH_RECEIVE_BUFFER,
  DEFAULT_ATTACH_RING_BYTES,
} from './attached-device.js';
export { describeLink, listLinks } from './link-info.js';
export type { LinkInfo, LinkDescription, OperState } from './link-info.js';
export { LinkMonitor } from './link-monitor.js';
export type { LinkMonitorEvents } from './link-monitor.js';
export { NetlinkLinkMonitor, openLinkMonitor } from './netlink-link-monitor.js';
export type { OpenLinkMonitorOptions } from './netlink-link-monitor.js';
export { Rtnetlink, openRtnetlink } from './rtnetlink.js';
export type { OpenRtnetlinkOptions, ApplyFdbOptions, FdbApplyResult, FdbApplyFailure } from './rtnetlink.js';
export type {
  KernelLink,
  VxlanDetails,
  BridgeDetails,
  BridgePortFlags,
  BridgePortDetails,
  BridgePortState,
  LinkCounters,
} from './kernel-link.js';
export { VXLAN_DEFAULT_PORT, VNI_MAX, LINK_ALIAS_MAX_BYTES } from './kernel-link-spec.js';
export type { LinkRef, BridgeSpec, VxlanSpec, LinkChange } from './kernel-link-spec.js';
export { LINK_MTU_MIN, LINK_MTU_MAX, isLinkMtu } from './link-mtu.js';
export { macText, isListMac, describeFdbChange } from './fdb-change.js';
export type { FdbChange, FdbOp, FdbChangeState } from './fdb-change.js';
export { fdbEntryKey } from './fdb-entry.js';
export type { IpNeighbour, IpNeighbourChange } from './ip-neighbour.js';
export { NeighbourSnooper, openNeighbourSnooper } from './neighbour-snooper.js';
export { enableIpv6Neighbours } from './ipv6-conf.js';
export type { SnoopedFrameHandler } from './neighbour-snooper.js';
export type { FdbEntry, FdbEntryState } from './fdb-entry.js';
export { FdbMonitor } from './fdb-monitor.js';
export type { FdbMonitorEvents, FdbMonitorTables } from './fdb-monitor.js';
export { NetlinkFdbMonitor, openFdbMonitor } from './netlink-fdb-monitor.js';
export type { OpenFdbMonitorOptions } from './netlink-fdb-monitor.js';
export {
  DVS_LINK_ALIAS_PREFIX,
  DVS_LINK_NAME_PREFIX,
  dvsLinkName,
  parseDvsLinkName,
  dvsLinkAlias,
  isDvsLink,
} from './dvs-links.js';
export type { DvsLinkRole } from './dvs-links.js';
export {
  STAGE_MARKS,
  DEFAULT_STAGE_TRACE_RECORDS,
  startStageTrace,
  takeStageTrace,
  stopStageTrace,
  markStage,
  STAGE_JS_HANDLER,
  STAGE_JS_READ,
  STAGE_JS_SWITCHED,
} from './stage-trace.js';
export type { StageRecord, StageMarkName, JsStageMark } from './stage-trace.js';
export { LOOP_SPIN_MAX_US, setLoopSpin, loopSpinStats } from './loop-spin.js';
export type { LoopSpinStats } from './loop-spin.js';
