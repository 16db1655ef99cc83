// MAC addresses as 48-bit JS numbers (0 .. 2^48-1). A number fits exactly in a
// double, compares with ===, keys a Map without allocation, and is read and
// written here without creating a Buffer or string on the hot path.
//
// Contract for readMac/writeMac: the caller has already checked that 6 bytes
// are available at `off` (decoders check frame length first).

export const MAC_LENGTH = 6;
export const BROADCAST_MAC = 0xffffffffffff;
/** Largest valid MAC number (also the broadcast address). */
export const MAX_MAC = 0xffffffffffff;

const TWO_POW_32 = 0x100000000;
const TWO_POW_40 = 0x10000000000;
/** I/G bit: least significant bit of the first octet (IEEE 802). */
const GROUP_BIT = 0x01;
/** U/L bit: second least significant bit of the first octet. */
const LOCAL_BIT = 0x02;

/** Reads 6 bytes at `off` as a 48-bit MAC number. */
export function readMac(buf: Uint8Array, off: number): number {
  const hi = (buf[off] << 8) | buf[off + 1];
  const lo = ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0;
  return hi * TWO_POW_32 + lo;
}

/** Writes a 48-bit MAC number as 6 bytes at `off`. */
export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / TWO_POW_32);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/**
 * Writes the MAC whose upper and lower 24 bits are `high` and `low` (the data
 * path's hot-path form: two small integers, never a boxed 48-bit number).
 */
export function writeMacHalves(buf: Uint8Array, off: number, high: number, low: number): void {
  buf[off] = high >>> 16;
  buf[off + 1] = high >>> 8;
  buf[off + 2] = high;
  buf[off + 3] = low >>> 16;
  buf[off + 4] = low >>> 8;
  buf[off + 5] = low;
}

/** True when `mac` is an integer in 0 .. 2^48-1. */
export function isValidMac(mac: unknown): mac is number {
  return typeof mac === 'number' && Number.isInteger(mac) && mac >= 0 && mac <= MAX_MAC;
}

function firstOctet(mac: number): number {
  return Math.floor(mac / TWO_POW_40) & 0xff;
}

/** Group (multicast) address, broadcast included: I/G bit set. */
export function isMulticastMac(mac: number): boolean {
  return (firstOctet(mac) & GROUP_BIT) !== 0;
}

export function isBroadcastMac(mac: number): boolean {
  return mac === BROADCAST_MAC;
}

/** Individual (unicast) address: I/G bit clear. */
export function isUnicastMac(mac: number): boolean {
  return (firstOctet(mac) & GROUP_BIT) === 0;
}

/** Locally administered (U/L bit set), as VM MACs such as 02:… and QEMU's 52:54:00:… are. */
export function isLocallyAdministeredMac(mac: number): boolean {
  return (firstOctet(mac) & LOCAL_BIT) !== 0;
}

const HEX = '0123456789abcdef';

/** "02:00:00:00:00:01" (lower case, colon separated). Not for the hot path. */
export function formatMac(mac: number): string {
  let out = '';
  for (let shift = 5; shift >= 0; shift--) {
    const octet = Math.floor(mac / 2 ** (8 * shift)) & 0xff;
    out += HEX[octet >>> 4] + HEX[octet & 0x0f];
    if (shift > 0) out += ':';
  }
  return out;
}

/**
 * The one MAC syntax: six hex pairs, all separated by ":" or all by "-"
 * (never a mix), either case. Everything that reads MAC text (config, records,
 * keys, the controller API, the CLI) parses it here.
 */
const MAC_TEXT =
  /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/;

/** Parses "02:00:00:00:00:01" or "02-00-00-00-00-01" (either case); null for anything else. */
export function parseMac(text: string): number | null {
  if (typeof text !== 'string') return null;
  const m = MAC_TEXT.exec(text);
  if (m === null) return null;
  let mac = 0;
  for (const i of [1, 3, 4, 5, 6, 7]) mac = mac * 256 + parseInt(m[i], 16);
  return mac;
}

/** Typed MAC text in its canonical form (`02-00-5E-00-01-0A` → `02:00:5e:00:01:0a`); null when it is not a MAC. */
export function canonicalMac(text: string): string | null {
  const mac = parseMac(text);
  return mac === null ? null : formatMac(mac);
}

/**
 * True when `text` is a MAC in canonical form (lowercase, colon-separated), the
 * form records and etcd keys carry, so `etcdctl get --prefix` dumps stay
 * readable and a key sorts the same everywhere.
 */
export function isCanonicalMac(text: unknown): text is string {
  return typeof text === 'string' && canonicalMac(text) === text;
}
