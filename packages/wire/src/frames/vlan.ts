// 802.1Q: one tag between the source MAC and the EtherType.
//
//   dst(6) src(6) | TPID 0x8100 (2) | PCP(3) DEI(1) VID(12) | EtherType(2) | payload
//
// dvs carries single-tagged frames only. QinQ (outer TPID 0x88a8 / 0x9100, or
// a second 0x8100 tag) is recognised and rejected with its own result so the
// data path can count it under a separate drop reason.

import {
  ETHERNET_HEADER_LENGTH,
  ETHERNET_TYPE_OFFSET,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_LEGACY,
  ETHERTYPE_VLAN,
} from './ethernet.js';

export const VLAN_TAG_LENGTH = 4;
/** Offset of the TCI in a tagged frame (right after the TPID). */
export const VLAN_TCI_OFFSET = 14;
/** Header length of a single-tagged frame: 14 + 4. */
export const VLAN_HEADER_LENGTH = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
export const MIN_VLAN_ID = 1;
export const MAX_VLAN_ID = 4094;
/** VID 4095 is reserved by 802.1Q and never valid on the wire. */
export const VLAN_ID_RESERVED = 4095;

/** readVlanId result: the frame carries no 802.1Q tag. */
export const VLAN_UNTAGGED = -1;
/** readVlanId result: QinQ / double tag, which dvs does not carry. */
export const VLAN_QINQ = -2;
/** readVlanId result: too short for its header, or VID 4095. */
export const VLAN_MALFORMED = -3;

/** True for the EtherTypes that announce a service (outer) tag. */
export function isQinqEthertype(type: number): boolean {
  return type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_LEGACY;
}

/** True when `n` is a VID a trunk port may map: 1..4094. */
export function isValidVlanId(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_VLAN_ID && n <= MAX_VLAN_ID;
}

/**
 * Classifies the frame at `off` (`length` bytes): its VID (0..4094; 0 means
 * priority-tagged, no VLAN), or VLAN_UNTAGGED (-1), VLAN_QINQ (-2),
 * VLAN_MALFORMED (-3). Every result below -1 is a drop. No allocation.
 */
export function readVlanId(buf: Uint8Array, off: number, length: number): number {
  if (!(off >= 0) || length < ETHERNET_HEADER_LENGTH || off + length > buf.length) return VLAN_MALFORMED;
  const type = (buf[off + ETHERNET_TYPE_OFFSET] << 8) | buf[off + ETHERNET_TYPE_OFFSET + 1];
  if (isQinqEthertype(type)) return VLAN_QINQ;
  if (type !== ETHERTYPE_VLAN) return VLAN_UNTAGGED;
  if (length < VLAN_HEADER_LENGTH) return VLAN_MALFORMED;
  const inner = (buf[off + VLAN_HEADER_LENGTH - 2] << 8) | buf[off + VLAN_HEADER_LENGTH - 1];
  if (inner === ETHERTYPE_VLAN || isQinqEthertype(inner)) return VLAN_QINQ;
  const vid = ((buf[off + VLAN_TCI_OFFSET] << 8) | buf[off + VLAN_TCI_OFFSET + 1]) & 0x0fff;
  return vid === VLAN_ID_RESERVED ? VLAN_MALFORMED : vid;
}

/**
 * Inserts an 802.1Q tag in place. The frame occupies buf[off, off+length) and
 * needs 4 bytes of headroom (off >= 4). The 12 MAC bytes move 4 bytes left,
 * the tag goes where they ended: afterwards the frame occupies
 * buf[off-4, off+length), i.e. new offset = off - 4, new length = length + 4.
 * Returns the new offset, or -1 (nothing written) without headroom, with a
 * frame shorter than 14 bytes, or an invalid VID/PCP.
 */
export function pushVlanTag(buf: Uint8Array, off: number, length: number, vid: number, pcp = 0): number {
  if (!(off >= VLAN_TAG_LENGTH) || length < ETHERNET_HEADER_LENGTH || off + length > buf.length) return -1;
  if (!(vid >= 0 && vid <= MAX_VLAN_ID) || !(pcp >= 0 && pcp <= 7)) return -1;
  const start = off - VLAN_TAG_LENGTH;
  buf.copyWithin(start, off, off + ETHERNET_TYPE_OFFSET);
  const tag = start + ETHERNET_TYPE_OFFSET;
  buf[tag] = ETHERTYPE_VLAN >>> 8;
  buf[tag + 1] = ETHERTYPE_VLAN & 0xff;
  buf[tag + 2] = (pcp << 5) | (vid >>> 8);
  buf[tag + 3] = vid & 0xff;
  return start;
}

/**
 * Removes the single 802.1Q tag in place: the 12 MAC bytes move 4 bytes
 * right, over the tag. Afterwards the frame occupies buf[off+4, off+length),
 * i.e. new offset = off + 4, new length = length - 4 (the frame is not
 * re-padded to 60 bytes). Returns the new offset, or -1 (nothing written)
 * when the frame is not single-tagged or is too short.
 */
export function popVlanTag(buf: Uint8Array, off: number, length: number): number {
  const vid = readVlanId(buf, off, length);
  if (vid < 0) return -1;
  buf.copyWithin(off + VLAN_TAG_LENGTH, off, off + ETHERNET_TYPE_OFFSET);
  return off + VLAN_TAG_LENGTH;
}
