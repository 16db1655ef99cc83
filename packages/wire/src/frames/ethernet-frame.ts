// decodeEthernet: one Ethernet II frame, untagged or with one 802.1Q tag, as a
// typed result. The data path's per-frame classification uses the
// allocation-free accessors (readVlanId, readInnerEthertype); this decoder is
// for slow paths, tools and tests, and tells the caller why it refused.

import { ETHERNET_DST_OFFSET, ETHERNET_HEADER_LENGTH, ETHERNET_SRC_OFFSET, ETHERNET_TYPE_OFFSET } from './ethernet.js';
import { readMac, writeMac } from './mac.js';
import { VLAN_HEADER_LENGTH, VLAN_MALFORMED, VLAN_QINQ, VLAN_TCI_OFFSET, VLAN_UNTAGGED, readVlanId } from './vlan.js';

export interface EthernetFrame {
  ok: true;
  dstMac: number;
  srcMac: number;
  /** VID 0..4094 (0: priority-tagged), or -1 when untagged. */
  vlanId: number;
  /** 802.1p priority from the tag; 0 when untagged. */
  pcp: number;
  /** EtherType after the tag, if any. Values below 0x0600 are 802.3 lengths (LLC frames). */
  ethertype: number;
  /** Absolute offset of the payload in the buffer. */
  payloadOffset: number;
  payloadLength: number;
}

export type EthernetDropReason = 'truncated' | 'qinq' | 'reserved-vlan-id';

export interface EthernetDecodeError {
  ok: false;
  reason: EthernetDropReason;
}

const TRUNCATED: EthernetDecodeError = Object.freeze({ ok: false, reason: 'truncated' });
const QINQ: EthernetDecodeError = Object.freeze({ ok: false, reason: 'qinq' });
const RESERVED_VID: EthernetDecodeError = Object.freeze({ ok: false, reason: 'reserved-vlan-id' });

/** Decodes the frame buf[off, off+length). Never throws. */
export function decodeEthernet(buf: Uint8Array, off: number, length: number): EthernetFrame | EthernetDecodeError {
  const vid = readVlanId(buf, off, length);
  if (vid === VLAN_QINQ) return QINQ;
  if (vid === VLAN_MALFORMED) {
    return length >= VLAN_HEADER_LENGTH && off >= 0 && off + length <= buf.length ? RESERVED_VID : TRUNCATED;
  }
  const tagged = vid !== VLAN_UNTAGGED;
  const headerLength = tagged ? VLAN_HEADER_LENGTH : ETHERNET_HEADER_LENGTH;
  const typeOffset = off + headerLength - 2;
  return {
    ok: true,
    dstMac: readMac(buf, off + ETHERNET_DST_OFFSET),
    srcMac: readMac(buf, off + ETHERNET_SRC_OFFSET),
    vlanId: vid,
    pcp: tagged ? buf[off + VLAN_TCI_OFFSET] >>> 5 : 0,
    ethertype: (buf[typeOffset] << 8) | buf[typeOffset + 1],
    payloadOffset: off + headerLength,
    payloadLength: length - headerLength,
  };
}

/**
 * The EtherType after an optional single 802.1Q tag, or -1 when the frame is
 * truncated, QinQ, or carries VID 4095. No allocation.
 */
export function readInnerEthertype(buf: Uint8Array, off: number, length: number): number {
  const vid = readVlanId(buf, off, length);
  if (vid < VLAN_UNTAGGED) return -1;
  const typeOffset = vid === VLAN_UNTAGGED ? off + ETHERNET_TYPE_OFFSET : off + VLAN_HEADER_LENGTH - 2;
  return (buf[typeOffset] << 8) | buf[typeOffset + 1];
}

/** Writes an untagged Ethernet header at `off`; the caller guarantees 14 bytes. Returns 14. */
export function writeEthernetHeader(
  buf: Uint8Array,
  off: number,
  dstMac: number,
  srcMac: number,
  ethertype: number,
): number {
  writeMac(buf, off + ETHERNET_DST_OFFSET, dstMac);
  writeMac(buf, off + ETHERNET_SRC_OFFSET, srcMac);
  buf[off + ETHERNET_TYPE_OFFSET] = ethertype >>> 8;
  buf[off + ETHERNET_TYPE_OFFSET + 1] = ethertype & 0xff;
  return ETHERNET_HEADER_LENGTH;
}
