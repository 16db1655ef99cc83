/**
 * Command-line argument parsers for commander (`.argParser(...)`): each
 * returns the typed value or throws UsageError naming the option and the
 * expected form, so bad input exits 2 before anything is sent.
 */
import {
  ENCAPS,
  LABEL_SYNTAX,
  MAX_OVERLAY_MTU,
  MAX_VNI,
  MIN_OVERLAY_MTU,
  MIN_VNI,
  canonicalIpAddress,
  canonicalMac,
  isEncap,
  isHostId,
  isLabelText,
  isValidOverlayMtu,
  isValidVni,
  type Encap,
} from '@dvs/wire';
import { UsageError } from './cli-errors.js';

export function parseVni(text: string, what = 'VNI'): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!isValidVni(n)) {
    throw new UsageError(`${what} must be an integer in ${MIN_VNI}..${MAX_VNI}, got "${text}"`);
  }
  return n;
}

export function parseMac(text: string, what = 'MAC'): string {
  const mac = canonicalMac(text.trim());
  if (mac === null) {
    throw new UsageError(`${what} "${text}" is not a MAC address: expected six hex pairs like 02:00:00:00:00:01`);
  }
  return mac;
}

export function parseUdpPort(text: string, what = 'port'): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${what} must be an integer in 1..65535, got "${text}"`);
  return n;
}

export function parseMtu(text: string): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!isValidOverlayMtu(n))
    throw new UsageError(`MTU must be an integer in ${MIN_OVERLAY_MTU}..${MAX_OVERLAY_MTU}, got "${text}"`);
  return n;
}

/** An underlay address in its canonical spelling (the controller stores it so). */
export function parseAddress(text: string, what = 'address'): string {
  const address = canonicalIpAddress(text.trim());
  if (address !== null) return address;
  throw new UsageError(`${what} "${text}" is not an IPv4 or IPv6 address`);
}

/** `192.0.2.9` or `192.0.2.9:4789` or `[2001:db8::1]:4789` → address and optional port. */
export function parseVtep(text: string, what = 'VTEP'): { address: string; port?: number } {
  const t = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracketed) {
    const address = parseAddress(bracketed[1], what);
    return bracketed[2] === undefined ? { address } : { address, port: parseUdpPort(bracketed[2], `${what} port`) };
  }
  const v4 = /^([0-9.]+)(?::(\d+))?$/.exec(t);
  if (v4) {
    const address = parseAddress(v4[1], what);
    return v4[2] === undefined ? { address } : { address, port: parseUdpPort(v4[2], `${what} port`) };
  }
  return { address: parseAddress(t, what) };
}

export function parseHost(text: string): string {
  if (!isHostId(text)) throw new UsageError(`host "${text}" is not a host id: letters, digits, ".", "_", "-"`);
  return text;
}

/** `h1,h2` → ['h1', 'h2']; '' → [] (no restriction). */
export function parseHostList(text: string, what: string): string[] {
  const list = text
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (const h of list)
    if (!isHostId(h)) throw new UsageError(`${what}: "${h}" is not a host id: letters, digits, ".", "_", "-"`);
  return list;
}

/** `rack=r1,tenant=blue` → ['rack=r1', 'tenant=blue']; '' → [] (no restriction). */
export function parseLabelList(text: string, what: string): string[] {
  const list = text
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const l of list) if (!isLabelText(l)) throw new UsageError(`${what}: "${l}" is not a label: ${LABEL_SYNTAX}`);
  return list;
}

export function parseSeconds(text: string, what = 'interval'): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600)
    throw new UsageError(`${what} must be a number of seconds in 0.1..3600, got "${text}"`);
  return n;
}

export function parseEncap(text: string): Encap {
  if (isEncap(text)) return text;
  throw new UsageError(`encap must be one of ${ENCAPS.join(', ')}, got "${text}"`);
}

export function parseBoolean(text: string, what: string): boolean {
  if (/^(true|yes|on|1)$/i.test(text)) return true;
  if (/^(false|no|off|0)$/i.test(text)) return false;
  throw new UsageError(`${what} must be on or off (true or false), got "${text}"`);
}
