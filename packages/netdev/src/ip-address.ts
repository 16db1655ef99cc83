import { isIPv4, isIPv6 } from 'node:net';
import { ipv4ToNumber, numberToIpv4 } from './packet-batch.js';

/**
 * IP address text <-> the forms a PacketBatch carries per slot (IPv4 as an
 * unsigned 32-bit number, IPv6 as 16 bytes). Not for the hot path: parse once
 * when a peer or VTEP is configured, then copy numbers/bytes into slots.
 */

/** A parsed address: family 4 with `ipv4`, or family 6 with 16 `ipv6` bytes. */
export type ParsedIpAddress = { family: 4; ipv4: number } | { family: 6; ipv6: Uint8Array };

/** Parses IPv4 or IPv6 text (no zone id). Returns null when it is neither. */
export function parseIpAddress(text: string): ParsedIpAddress | null {
  if (isIPv4(text)) return { family: 4, ipv4: ipv4ToNumber(text) };
  if (isIPv6(text) && !text.includes('%')) {
    const bytes = ipv6ToBytes(text);
    return bytes === null ? null : { family: 6, ipv6: bytes };
  }
  return null;
}

/** The address in network order: 4 bytes for IPv4, 16 for IPv6 (what netlink attributes carry). */
export function ipAddressBytes(address: ParsedIpAddress): Uint8Array {
  if (address.family === 6) return address.ipv6;
  const v4 = address.ipv4;
  return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 16 bytes, or null. */
export function ipv6ToBytes(text: string): Uint8Array | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  const out = new Uint8Array(16);
  // A dotted IPv4 tail ("::ffff:192.0.2.1") is rewritten as two hex words.
  const lastColon = head.lastIndexOf(':');
  const tail = head.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToNumber(tail);
    if (v4 < 0) return null;
    head = `${head.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const leftWords = left === '' ? [] : left.split(':').map((w) => parseInt(w, 16));
  const rightWords = right === null || right === '' ? [] : right.split(':').map((w) => parseInt(w, 16));
  const fill = 8 - leftWords.length - rightWords.length;
  if (fill < 0 || (right === null && fill !== 0)) return null;
  const words = [...leftWords, ...new Array<number>(fill).fill(0), ...rightWords];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i] >>> 8;
    out[i * 2 + 1] = words[i] & 0xff;
  }
  return out;
}

/** Formats 16 bytes (at `offset` of `bytes`) as canonical IPv6 text (RFC 5952). */
export function bytesToIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + i * 2] << 8) | bytes[offset + i * 2 + 1]);
  // Longest run of two or more zero words becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text of slot i's address in a batch (for logs and tests), e.g. "192.0.2.1" or "2001:db8::1". */
export function slotAddressText(family: number, ipv4: number, ipv6: Uint8Array, ipv6Offset: number): string {
  if (family === 4) return numberToIpv4(ipv4);
  if (family === 6) return bytesToIpv6(ipv6, ipv6Offset);
  return '';
}
