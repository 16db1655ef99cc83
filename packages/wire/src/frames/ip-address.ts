/**
 * IP address text: the one rule for what an address is, for every package
 * (config, records, the controller API, the CLI, the data path's peers and
 * the sockets). IPv4 is a dotted quad without leading zeros
 * (ipv4-address.ts); IPv6 is RFC 4291 text, `::` and a dotted IPv4 tail
 * included, no zone id (ipv6.ts). The canonical spelling is the dotted quad,
 * or RFC 5952 text for IPv6, so two spellings of one address compare equal.
 * Not for the hot path: parse once, then carry numbers and bytes.
 */
import { formatIpv4Address, parseIpv4Address } from './ipv4-address.js';
import { formatIpv6Address, parseIpv6Address } from './ipv6.js';

/** A parsed address: family 4 with `ipv4` (unsigned 32-bit), or family 6 with 16 `ipv6` bytes. */
export type ParsedIpAddress = { family: 4; ipv4: number } | { family: 6; ipv6: Uint8Array };

/** Parses IPv4 or IPv6 text; null when it is neither. */
export function parseIpAddress(text: string): ParsedIpAddress | null {
  if (typeof text !== 'string') return null;
  const ipv4 = parseIpv4Address(text);
  if (ipv4 !== null) return { family: 4, ipv4 };
  const ipv6 = parseIpv6Address(text);
  return ipv6 === null ? null : { family: 6, ipv6 };
}

/** 4 or 6 for address text, 0 for anything else (node:net's isIP, with this module's rule). */
export function ipFamily(text: string): 0 | 4 | 6 {
  return parseIpAddress(text)?.family ?? 0;
}

export function isIpAddress(text: unknown): text is string {
  return typeof text === 'string' && parseIpAddress(text) !== null;
}

/** The address in network order: 4 bytes for IPv4, 16 for IPv6 (what netlink attributes and sockets carry). */
export function ipAddressBytes(address: ParsedIpAddress): Uint8Array {
  if (address.family === 6) return address.ipv6;
  const v4 = address.ipv4;
  return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
}

/** The canonical text of a parsed address. */
export function formatIpAddress(address: ParsedIpAddress): string {
  return address.family === 4 ? formatIpv4Address(address.ipv4) : formatIpv6Address(address.ipv6, 0);
}

/** One spelling per address ("2001:DB8:0::2" → "2001:db8::2"); null when `text` is not an address. */
export function canonicalIpAddress(text: string): string | null {
  const parsed = parseIpAddress(text);
  return parsed === null ? null : formatIpAddress(parsed);
}
