// IPv4 addresses as unsigned 32-bit numbers (the same convention as
// PacketBatch.ipv4): no allocation, === comparison, Map keys.

export const IPV4_ADDRESS_LENGTH = 4;

/** Reads 4 bytes at `off` as an unsigned 32-bit address. Caller checked the length. */
export function readIpv4Address(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes an unsigned 32-bit address as 4 bytes at `off`. Caller checked the room. */
export function writeIpv4Address(buf: Uint8Array, off: number, addr: number): void {
  buf[off] = addr >>> 24;
  buf[off + 1] = addr >>> 16;
  buf[off + 2] = addr >>> 8;
  buf[off + 3] = addr;
}

/** Dotted quad ("192.0.2.1") to an unsigned 32-bit number; null for anything else. */
export function parseIpv4Address(text: string): number | null {
  if (typeof text !== 'string') return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

export function formatIpv4Address(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}
