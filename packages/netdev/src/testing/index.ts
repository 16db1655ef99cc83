// @dvs/netdev/testing: in-memory fakes of FrameDevice and TunnelSocket for unit
// tests elsewhere (they pass the same compliance suite as the real devices).
export { FakeFrameDevice, FakeFrameHub, createFakeFramePair } from './fake-frame-device.js';
export type { FakeFrameDeviceOptions } from './fake-frame-device.js';
export { FakeUdpNetwork, FakeTunnelSocket } from './fake-udp-network.js';
export type { FakeDatagram } from './fake-udp-network.js';
export { PacketSocket } from './packet-socket.js';
export { LabNamespace } from './lab-namespace.js';
