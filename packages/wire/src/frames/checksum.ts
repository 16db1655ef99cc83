// The Internet checksum (RFC 1071): ones' complement of the ones' complement
// sum of 16-bit big-endian words. Used by IPv4 headers, UDP and ICMPv6.

/**
 * Adds buf[off, off+length) to a running 32-bit partial sum (odd trailing
 * byte padded with zero, RFC 1071 §4.1). The caller checked the range.
 * Fold with finishChecksum. Partial sums of several ranges (a pseudo-header,
 * then the message) may be chained as long as every range but the last has
 * even length.
 */
export function addChecksumBytes(sum: number, buf: Uint8Array, off: number, length: number): number {
  const end = off + length - 1;
  let i = off;
  for (; i < end; i += 2) {
    sum += (buf[i] << 8) | buf[i + 1];
    // Fold early so the sum never leaves the exact-integer range of a double
    // even for 64 KiB inputs (cheap: one compare per word).
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i === end) sum += buf[i] << 8;
  return sum;
}

/** Folds a partial sum to 16 bits and complements it: the checksum field value. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of buf[off, off+length) alone; 0 over a range that already holds its correct checksum. */
export function internetChecksum(buf: Uint8Array, off: number, length: number): number {
  return finishChecksum(addChecksumBytes(0, buf, off, length));
}
