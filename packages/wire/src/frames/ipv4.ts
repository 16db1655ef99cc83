// IPv4 header (RFC 791): enough to snoop ARP/DHCP-adjacent traffic, to build
// probe and outer headers, and to validate what we receive.
//
//   0       4       8              16    19                     31
//   | Ver=4 | IHL   | DSCP    |ECN |        Total Length         |
//   |        Identification        |Flags|   Fragment Offset     |
//   |  TTL          |  Protocol    |       Header Checksum        |
//   |                        Source Address                       |
//   |                     Destination Address                     |
//   |                  Options (IHL > 5) ...                      |

import { addChecksumBytes, finishChecksum, internetChecksum } from './checksum.js';
import { readIpv4Address, writeIpv4Address } from './ipv4-address.js';

export const IPV4_HEADER_MIN_LENGTH = 20;
export const IPV4_HEADER_MAX_LENGTH = 60;
export const IPV4_VERSION = 4;
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;
export const IP_PROTOCOL_ICMPV6 = 58;
export const IPV4_DEFAULT_TTL = 64;
export const IPV4_CHECKSUM_OFFSET = 10;
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

export interface Ipv4Header {
  headerLength: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  /** Unsigned 32-bit addresses. */
  src: number;
  dst: number;
  /** Absolute offset of the payload; payloadLength = totalLength - headerLength (trailing padding excluded). */
  payloadOffset: number;
  payloadLength: number;
}

/**
 * Decodes the IPv4 header at `off` (`length` bytes available). Null when
 * truncated, version != 4, IHL < 5, the total length disagrees with the
 * header or exceeds what is available, or the header checksum is wrong.
 * Bytes beyond totalLength (Ethernet padding) are allowed and ignored.
 */
export function decodeIpv4(buf: Uint8Array, off: number, length: number): Ipv4Header | null {
  if (!(off >= 0) || length < IPV4_HEADER_MIN_LENGTH || off + IPV4_HEADER_MIN_LENGTH > buf.length) return null;
  const avail = Math.min(length, buf.length - off);
  const b0 = buf[off];
  if (b0 >>> 4 !== IPV4_VERSION) return null;
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_MIN_LENGTH || headerLength > avail) return null;
  const totalLength = (buf[off + 2] << 8) | buf[off + 3];
  if (totalLength < headerLength || totalLength > avail) return null;
  if (internetChecksum(buf, off, headerLength) !== 0) return null;
  const flagsFragment = (buf[off + 6] << 8) | buf[off + 7];
  return {
    headerLength,
    dscp: buf[off + 1] >>> 2,
    ecn: buf[off + 1] & 0x03,
    totalLength,
    identification: (buf[off + 4] << 8) | buf[off + 5],
    dontFragment: (flagsFragment & FLAG_DF) !== 0,
    moreFragments: (flagsFragment & FLAG_MF) !== 0,
    fragmentOffset: flagsFragment & FRAGMENT_OFFSET_MASK,
    ttl: buf[off + 8],
    protocol: buf[off + 9],
    checksum: (buf[off + IPV4_CHECKSUM_OFFSET] << 8) | buf[off + IPV4_CHECKSUM_OFFSET + 1],
    src: readIpv4Address(buf, off + IPV4_SRC_OFFSET),
    dst: readIpv4Address(buf, off + IPV4_DST_OFFSET),
    payloadOffset: off + headerLength,
    payloadLength: totalLength - headerLength,
  };
}

export interface Ipv4HeaderFields {
  src: number;
  dst: number;
  protocol: number;
  /** Bytes after the header; totalLength = 20 + payloadLength. */
  payloadLength: number;
  ttl?: number;
  identification?: number;
  dontFragment?: boolean;
  dscp?: number;
  ecn?: number;
}

/**
 * Writes a 20-byte IPv4 header (no options) with its checksum at `off`.
 * Returns 20, or -1 (nothing written) when 20 bytes do not fit or the total
 * length would exceed 65535.
 */
export function writeIpv4Header(buf: Uint8Array, off: number, f: Ipv4HeaderFields): number {
  if (!(off >= 0) || off + IPV4_HEADER_MIN_LENGTH > buf.length) return -1;
  const totalLength = IPV4_HEADER_MIN_LENGTH + f.payloadLength;
  if (!(f.payloadLength >= 0) || totalLength > 0xffff) return -1;
  const id = f.identification ?? 0;
  const flags = f.dontFragment ? FLAG_DF : 0;
  buf[off] = (IPV4_VERSION << 4) | (IPV4_HEADER_MIN_LENGTH / 4);
  buf[off + 1] = (((f.dscp ?? 0) & 0x3f) << 2) | ((f.ecn ?? 0) & 0x03);
  buf[off + 2] = totalLength >>> 8;
  buf[off + 3] = totalLength & 0xff;
  buf[off + 4] = (id >>> 8) & 0xff;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = flags >>> 8;
  buf[off + 7] = 0;
  buf[off + 8] = f.ttl ?? IPV4_DEFAULT_TTL;
  buf[off + 9] = f.protocol;
  buf[off + IPV4_CHECKSUM_OFFSET] = 0;
  buf[off + IPV4_CHECKSUM_OFFSET + 1] = 0;
  writeIpv4Address(buf, off + IPV4_SRC_OFFSET, f.src);
  writeIpv4Address(buf, off + IPV4_DST_OFFSET, f.dst);
  const checksum = internetChecksum(buf, off, IPV4_HEADER_MIN_LENGTH);
  buf[off + IPV4_CHECKSUM_OFFSET] = checksum >>> 8;
  buf[off + IPV4_CHECKSUM_OFFSET + 1] = checksum & 0xff;
  return IPV4_HEADER_MIN_LENGTH;
}

/**
 * Partial checksum sum of the IPv4 pseudo-header (RFC 768) for a transport
 * segment of `length` bytes: feed it to addChecksumBytes over the segment.
 */
export function ipv4PseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * ipv4PseudoHeaderSum with the addresses read where they sit, in the IPv4
 * header at `ipOff` (the caller checked its 20 bytes). The data path's form:
 * it never makes an address into a 32-bit number, which V8 would box on the
 * heap above 2^30 whenever it crosses a call.
 */
export function ipv4PseudoHeaderSumAt(buf: Uint8Array, ipOff: number, protocol: number, length: number): number {
  let sum = protocol + length;
  for (let i = ipOff + IPV4_SRC_OFFSET; i < ipOff + IPV4_DST_OFFSET + 4; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  return sum;
}

/** Checksum of a transport segment buf[off, off+length) under the IPv4 pseudo-header. */
export function ipv4TransportChecksum(
  buf: Uint8Array,
  off: number,
  length: number,
  src: number,
  dst: number,
  protocol: number,
): number {
  return finishChecksum(addChecksumBytes(ipv4PseudoHeaderSum(src, dst, protocol, length), buf, off, length));
}
