// Frames: pure (buf, offset) codecs for the data path. Conventions: MACs and
// IPv4 addresses are numbers; accessors return -1 (or another documented
// negative) for malformed input; decoders return a typed result or null;
// nothing here throws or reads out of bounds. See docs/wire.md.
export * from './mac.js';
export * from './ethernet.js';
export * from './ethernet-frame.js';
export * from './vlan.js';
export * from './vni.js';
export * from './checksum.js';
export * from './ipv4-address.js';
export * from './ipv4.js';
export * from './udp.js';
export * from './tcp.js';
export * from './ipv6.js';
export * from './ip-address.js';
export * from './neighbor-discovery.js';
export * from './arp.js';
export * from './vxlan.js';
export * from './gre-udp.js';
export * from './encap.js';
export * from './outer.js';
export * from './pcap.js';
export * from './dhcp.js';
