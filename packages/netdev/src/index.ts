export * from './packet-batch.js';
export type * from './types.js';
export * from './ip-address.js';
export { NetdevError, isNetdevError } from './errors.js';
export type { NetdevErrorCode } from './errors.js';
export { TapDevice, openTap, openTapSync, checkInterfaceName, INTERFACE_NAME_MAX_BYTES } from './tap-device.js';
export { NativeTunnelSocket, openTunnelSocket, openTunnelSocketSync } from './native-tunnel-socket.js';
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
