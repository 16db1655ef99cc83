// GRE-in-UDP (RFC 8086) carrying Ethernet, with the key used as NVGRE does
// (RFC 7637 §3.2): upper 24 bits VNI (VSID), lower 8 bits FlowID.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0| |1|0|   Reserved0     | Ver |   Protocol Type 0x6558        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               VNI (24 bits)                   |   FlowID      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Send: 20 00 65 58 <vni 3 bytes> <flow id>. Receive (RFC 2784 §2.3, RFC 2890):
// drop when K is clear, when C (checksum) or S (sequence) is set (we do not
// implement either, and their optional fields would move the key), when any
// of RFC 2784's bits 1-5 other than K/S is set, when Ver != 0, or when the
// protocol is not transparent Ethernet bridging. Reserved bits 6-12 are
// ignored on receipt as RFC 2784 says.

import { ETHERTYPE_TEB } from './ethernet.js';

export const GRE_UDP_HEADER_LENGTH = 8;
export const GRE_UDP_PORT = 4754;
export const GRE_FLAG_C = 0x80;
export const GRE_FLAG_R = 0x40;
export const GRE_FLAG_K = 0x20;
export const GRE_FLAG_S = 0x10;
/** First-octet bits that make us drop: C, R, S, strict route (s), recursion msb. */
const GRE_DROP_BITS = GRE_FLAG_C | GRE_FLAG_R | GRE_FLAG_S | 0x08 | 0x04;
const GRE_VERSION_MASK = 0x07;
export const GRE_PROTOCOL_OFFSET = 2;
export const GRE_KEY_OFFSET = 4;

/**
 * Writes the 8-byte GRE header (K set, version 0, protocol 0x6558, key =
 * VNI << 8 | flowId) at `off`. The caller guarantees 8 writable bytes.
 */
export function writeGreUdpHeader(buf: Uint8Array, off: number, vni: number, flowId = 0): void {
  buf[off] = GRE_FLAG_K;
  buf[off + 1] = 0;
  buf[off + 2] = ETHERTYPE_TEB >>> 8;
  buf[off + 3] = ETHERTYPE_TEB & 0xff;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = flowId & 0xff;
}

/**
 * The VNI (key >>> 8) of the GRE header at `off`, or -1 when fewer than 8
 * bytes are available or the header is one we drop (see the file comment).
 */
export function readGreUdpVni(buf: Uint8Array, off: number, length: number): number {
  if (!(off >= 0) || length < GRE_UDP_HEADER_LENGTH || off + GRE_UDP_HEADER_LENGTH > buf.length) return -1;
  const flags = buf[off];
  if ((flags & GRE_FLAG_K) === 0 || (flags & GRE_DROP_BITS) !== 0) return -1;
  if ((buf[off + 1] & GRE_VERSION_MASK) !== 0) return -1;
  if (((buf[off + 2] << 8) | buf[off + 3]) !== ETHERTYPE_TEB) return -1;
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}
