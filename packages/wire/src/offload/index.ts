// Offloads: the virtio-net header, TCP/UDP segmentation of super-frames,
// TCP coalescing into super-frames, and the inner-flow hash behind the outer
// UDP source port. Pure and allocation-free per frame. See docs/wire.md.
export * from './virtio-net-header.js';
export * from './frame-layout.js';
export * from './segment-slots.js';
export * from './segment.js';
export * from './coalesce.js';
export * from './flow-hash.js';
export { OffloadOptionsError } from './offload-options-error.js';
export { copyBytes } from './byte-copy.js';
