/**
 * Reading Ethernet fields on the hot path. MACs are read as two 24-bit
 * halves (small integers): a 48-bit number would be boxed whenever it
 * crosses a call or keys a Map.
 */

/** The upper 24 bits of the MAC at `off`. */
export function macHighAt(buf: Uint8Array, off: number): number {
  return (buf[off] << 16) | (buf[off + 1] << 8) | buf[off + 2];
}

/** The lower 24 bits of the MAC at `off`. */
export function macLowAt(buf: Uint8Array, off: number): number {
  return (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5];
}

/** I/G bit: group (multicast or broadcast) address. */
export function isGroupAt(buf: Uint8Array, off: number): boolean {
  return (buf[off] & 1) !== 0;
}

/** ff:ff:ff:ff:ff:ff at `off`. */
export function isBroadcastAt(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
}

/** The 16-bit big-endian value at `off`. */
export function u16At(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Whether the `n` bytes at `a[aOff]` and `b[bOff]` are equal. */
export function bytesEqualAt(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[aOff + k] !== b[bOff + k]) return false;
  return true;
}
