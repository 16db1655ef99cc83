// @dvs/wire public surface. Frames: pure (buf, offset) codecs for the data path.
// Records: control-plane records (msgpackr) and the etcd key layout.
// Offload: virtio-net headers, segmentation, coalescing, flow entropy.
// Admin: the agent admin-socket protocol shared by agent and CLI.
// API: the controller HTTP API contract shared by controller, CLI and lab.
// Flow export: sFlow v5 and IPFIX encoders.
// Daemon: what dvs-agent and dvs-controller do on an uncaught error.
export * from './frames/index.js';
export * from './offload/index.js';
export * from './records/index.js';
export * from './admin/index.js';
export * from './api/index.js';
export * from './daemon/index.js';
export * from './flow-export/index.js';
