// Ethernet II framing. Offsets are relative to the frame start; the FCS is
// never present (TAP devices and UDP payloads carry frames without it).

export const ETHERNET_HEADER_LENGTH = 14;
/** Minimum frame length without FCS (64 - 4); shorter frames are padded on send. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;
export const ETHERNET_DST_OFFSET = 0;
export const ETHERNET_SRC_OFFSET = 6;
export const ETHERNET_TYPE_OFFSET = 12;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_RARP = 0x8035;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ TPID still sent by some switches. */
export const ETHERTYPE_QINQ_LEGACY = 0x9100;
export const ETHERTYPE_IPV6 = 0x86dd;
/** Transparent Ethernet bridging: GRE protocol type of an Ethernet payload. */
export const ETHERTYPE_TEB = 0x6558;
