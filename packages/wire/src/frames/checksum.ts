// The Internet checksum (RFC 1071): ones' complement of the ones' complement
// sum of 16-bit big-endian words. Used by IPv4 headers, UDP, TCP and ICMPv6.
//
// Long ranges (segmented and coalesced TCP payloads, 64 KiB super-frames) are
// summed 32 bits at a time through a Uint32Array view of the whole
// ArrayBuffer, made once per ArrayBuffer: 2-4x faster than byte pairs. Those
// words are little-endian, so the sum comes out byte-swapped whenever the range
// starts at an even address; RFC 1071 §2(B) (byte-order independence) makes
// swapping the folded sum back exact. Short ranges, big-endian hosts and
// anything that is not a real typed array (the tests' bounds-checking Proxy)
// take the byte-pair loop.

/** Ranges shorter than this take the byte-pair loop (the view lookup would cost more than it saves). */
const WIDE_MIN_LENGTH = 64;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();
/** Words per block: 4096 turns × 2 words × 0xffff stays below 2^30. */
const BLOCK_WORDS = 8192;

/**
 * Adds buf[off, off+length) to a running partial sum (odd trailing byte
 * padded with zero, RFC 1071 §4.1). The caller checked the range. Fold with
 * finishChecksum. Partial sums of several ranges (a pseudo-header, then the
 * message) may be chained as long as every range but the last has even
 * length. The value returned is a sum, not a folded 16-bit word; only its
 * residue modulo 0xffff is defined.
 */
export function addChecksumBytes(sum: number, buf: Uint8Array, off: number, length: number): number {
  if (length >= WIDE_MIN_LENGTH && LITTLE_ENDIAN && ArrayBuffer.isView(buf)) {
    return sum + wideSum(buf, off, length);
  }
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

/** Folds a partial sum to 16 bits with end-around carry, without complementing it. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Folds a partial sum to 16 bits and complements it: the checksum field value. */
export function finishChecksum(sum: number): number {
  return ~foldChecksum(sum) & 0xffff;
}

/** The checksum of buf[off, off+length) alone; 0 over a range that already holds its correct checksum. */
export function internetChecksum(buf: Uint8Array, off: number, length: number): number {
  return finishChecksum(addChecksumBytes(0, buf, off, length));
}

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  let words = wordViews.get(buffer);
  if (words === undefined) {
    words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordViews.set(buffer, words);
  }
  return words;
}

/**
 * The big-endian word sum of buf[off, off+length) as a folded 16-bit value,
 * read as aligned little-endian 32-bit words. Each byte at absolute address p
 * counts as itself when p is even and shifted left 8 when p is odd; that is
 * the big-endian sum when the range starts at an odd address, and its byte
 * swap when it starts at an even one.
 */
function wideSum(buf: Uint8Array, off: number, length: number): number {
  const base = buf.byteOffset;
  const start = base + off;
  const end = start + length;
  let p = start;
  let edges = 0;
  for (; p < end && (p & 3) !== 0; p++) edges += (p & 1) === 0 ? buf[p - base] : buf[p - base] << 8;
  const words = wordsOf(buf.buffer);
  const wordEnd = end >>> 2;
  let i = p >>> 2;
  let sum = 0;
  // Two words per turn, in blocks short enough that both accumulators stay
  // small integers (V8 Smis: below 2^30) and the loop never turns to doubles.
  while (i + 1 < wordEnd) {
    const stop = Math.min(wordEnd - 1, i + BLOCK_WORDS);
    let low = 0;
    let high = 0;
    for (; i < stop; i += 2) {
      const a = words[i];
      const b = words[i + 1];
      low += (a & 0xffff) + (b & 0xffff);
      high += (a >>> 16) + (b >>> 16);
    }
    sum += low + high;
  }
  if (i < wordEnd) {
    const a = words[i];
    sum += (a & 0xffff) + (a >>> 16);
    i++;
  }
  if (i * 4 > p) p = i * 4;
  for (; p < end; p++) edges += (p & 1) === 0 ? buf[p - base] : buf[p - base] << 8;
  const folded = foldChecksum(edges + sum);
  return (start & 1) === 1 ? folded : ((folded & 0xff) << 8) | (folded >>> 8);
}
