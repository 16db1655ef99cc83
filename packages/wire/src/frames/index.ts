// Frames: pure (buf, offset) codecs for the data path. Conventions: MACs and
// IPv4 addresses are numbers; accessors return -1 (or another documented
// negative) for malformed input; decoders return a typed result or null;
// nothing here throws or reads out of bounds.
export * from './mac.js';
export * from './ethernet.js';
export * from './vlan.js';
export * from './vni.js';
export * from './ipv4-address.js';
export * from './arp.js';
export * from './vxlan.js';
export * from './gre-udp.js';
