// IPv6 fixed header (RFC 8200 §3), 40 bytes:
//
//   | Ver=6 | Traffic Class |           Flow Label                  |
//   |        Payload Length         |  Next Header  |   Hop Limit   |
//   |                 Source Address (16 bytes)                     |
//   |              Destination Address (16 bytes)                   |
//
// Addresses stay in the buffer: decoders return their offsets (no copy);
// formatIpv6Address/parseIpv6Address convert for tools, logs and tests.

import { addChecksumBytes } from './checksum.js';

export const IPV6_HEADER_LENGTH = 40;
export const IPV6_ADDRESS_LENGTH = 16;
export const IPV6_VERSION = 6;
export const IPV6_SRC_OFFSET = 8;
export const IPV6_DST_OFFSET = 24;

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** The first next header; extension headers are not walked. */
  nextHeader: number;
  hopLimit: number;
  /** Absolute offsets of the 16-byte addresses in the buffer. */
  srcOffset: number;
  dstOffset: number;
  payloadOffset: number;
}

/**
 * Decodes the IPv6 header at `off` (`length` bytes available). Null when
 * truncated, version != 6, or the payload length exceeds what is available
 * (jumbograms, payload length 0 with a hop-by-hop option, are not supported).
 */
export function decodeIpv6(buf: Uint8Array, off: number, length: number): Ipv6Header | null {
  if (!(off >= 0) || length < IPV6_HEADER_LENGTH || off + IPV6_HEADER_LENGTH > buf.length) return null;
  if (buf[off] >>> 4 !== IPV6_VERSION) return null;
  const payloadLength = (buf[off + 4] << 8) | buf[off + 5];
  const avail = Math.min(length, buf.length - off) - IPV6_HEADER_LENGTH;
  if (payloadLength > avail) return null;
  return {
    trafficClass: ((buf[off] & 0x0f) << 4) | (buf[off + 1] >>> 4),
    flowLabel: ((buf[off + 1] & 0x0f) << 16) | (buf[off + 2] << 8) | buf[off + 3],
    payloadLength,
    nextHeader: buf[off + 6],
    hopLimit: buf[off + 7],
    srcOffset: off + IPV6_SRC_OFFSET,
    dstOffset: off + IPV6_DST_OFFSET,
    payloadOffset: off + IPV6_HEADER_LENGTH,
  };
}

export interface Ipv6HeaderFields {
  /** 16-byte addresses. */
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  payloadLength: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** Writes the 40-byte header at `off`. Returns 40, or -1 (nothing written) when it does not fit or a field is invalid. */
export function writeIpv6Header(buf: Uint8Array, off: number, f: Ipv6HeaderFields): number {
  if (!(off >= 0) || off + IPV6_HEADER_LENGTH > buf.length) return -1;
  if (f.src.length !== IPV6_ADDRESS_LENGTH || f.dst.length !== IPV6_ADDRESS_LENGTH) return -1;
  if (!(f.payloadLength >= 0 && f.payloadLength <= 0xffff)) return -1;
  const tc = f.trafficClass ?? 0;
  const flow = f.flowLabel ?? 0;
  buf[off] = (IPV6_VERSION << 4) | ((tc >>> 4) & 0x0f);
  buf[off + 1] = ((tc & 0x0f) << 4) | ((flow >>> 16) & 0x0f);
  buf[off + 2] = (flow >>> 8) & 0xff;
  buf[off + 3] = flow & 0xff;
  buf[off + 4] = f.payloadLength >>> 8;
  buf[off + 5] = f.payloadLength & 0xff;
  buf[off + 6] = f.nextHeader;
  buf[off + 7] = f.hopLimit ?? 64;
  buf.set(f.src, off + IPV6_SRC_OFFSET);
  buf.set(f.dst, off + IPV6_DST_OFFSET);
  return IPV6_HEADER_LENGTH;
}

/**
 * Partial checksum sum of the IPv6 pseudo-header (RFC 8200 §8.1) of the
 * packet at `ipOff` for an upper-layer packet of `length` bytes: feed it to
 * addChecksumBytes over that packet. The caller checked the 40 bytes.
 */
export function ipv6PseudoHeaderSum(buf: Uint8Array, ipOff: number, length: number, nextHeader: number): number {
  return addChecksumBytes(0, buf, ipOff + IPV6_SRC_OFFSET, 2 * IPV6_ADDRESS_LENGTH) + length + nextHeader;
}

/** RFC 5952 text (lower case, longest run of two or more zero groups as "::"). Caller checked 16 bytes. */
export function formatIpv6Address(buf: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[off + 2 * i] << 8) | buf[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses IPv6 text (with "::" and an optional trailing dotted quad) into 16 bytes; null when invalid. */
export function parseIpv6Address(text: string): Buffer | null {
  if (typeof text !== 'string' || text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups: number[] = [];
  const parseGroups = (parts: string[], isLast: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (isLast && i === parts.length - 1 && p.includes('.')) {
        const quad = p.split('.');
        if (quad.length !== 4 || !quad.every((q) => /^(0|[1-9]\d{0,2})$/.test(q) && Number(q) <= 255)) return null;
        out.push((Number(quad[0]) << 8) | Number(quad[1]), (Number(quad[2]) << 8) | Number(quad[3]));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const all = parseGroups(head, true);
    if (all === null || all.length !== 8) return null;
    groups.push(...all);
  } else {
    const h = parseGroups(head, false);
    const t = parseGroups(tail, true);
    if (h === null || t === null || h.length + t.length > 7) return null;
    groups.push(...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t);
  }
  const out = Buffer.alloc(IPV6_ADDRESS_LENGTH);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i], 2 * i);
  return out;
}
