// @dvs/netdev/testing: in-memory fakes of FrameDevice, TunnelSocket and of a
// namespace's links (attached devices, link monitor) for unit tests elsewhere
// (they pass the same compliance suites as the real devices).
export { FakeFrameDevice, FakeFrameHub, createFakeFramePair } from './fake-frame-device.js';
export type { FakeFrameDeviceOptions } from './fake-frame-device.js';
export { FakeLinks, FakeLinkMonitor, FakeAttachedDevice } from './fake-links.js';
export type { FakeLinkOptions } from './fake-links.js';
export { FakeUdpNetwork, FakeTunnelSocket } from './fake-udp-network.js';
export type { FakeDatagram } from './fake-udp-network.js';
export { PacketSocket } from './packet-socket.js';
export { LabNamespace } from './lab-namespace.js';
export { vethAcross } from './veth-across.js';
export type { VethAcrossOptions } from './veth-across.js';
export { TapHolder, REFLECT_OFFSET } from './tap-holder-client.js';
export type { TapHolderGuest } from './tap-holder-client.js';
export { TEST_ETHERTYPE, testFrame, isTestFrame, packetsOf, place } from './test-frames.js';
export { runTcpTransfer } from './tcp-transfer.js';
export type { TcpTransferOptions, TcpTransferResult, TcpTransferEnd } from './tcp-transfer.js';
