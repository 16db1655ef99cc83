// Copying bytes between typed arrays without allocating per copy.
//
// On Node 20, Buffer.copy and TypedArray.set need a view of exactly the source
// range and make one per call, which is an allocation per segment. This file
// uses two copies that avoid it (the agent's FrameCopier uses the second):
//   - same ArrayBuffer: copyWithin on one view of the whole ArrayBuffer (a
//     memmove: overlapping ranges are fine; what in-place segmentation needs);
//   - different ArrayBuffers: Buffer.prototype.fill with a pattern view that
//     starts at the source byte and runs to the end of its ArrayBuffer (always
//     at least as long as the range, so fill copies it once: a native memcpy).
//     Pattern views are cached per (ArrayBuffer, start); payloads start at a
//     handful of offsets per slot, so the cache stops growing after warm-up.
//     Past PATTERN_CACHE_LIMIT starts the cache for that ArrayBuffer is
//     dropped and rebuilt: a bounded cost, never unbounded memory.
// Short ranges between different ArrayBuffers, and anything that is not a
// real typed array (the tests' bounds-checking Proxy), are copied byte by byte.

/** Below this, a byte loop beats the native call's fixed cost. */
const NATIVE_MIN_LENGTH = 64;
const PATTERN_CACHE_LIMIT = 4096;

const wholeViews = new WeakMap<ArrayBufferLike, Uint8Array>();
const patternViews = new WeakMap<ArrayBufferLike, Map<number, Uint8Array>>();
const bufferFill = Buffer.prototype.fill;

/**
 * Copies src[srcOff, srcOff+length) to dst[dstOff, dstOff+length). The caller
 * checked both ranges. Overlapping ranges of one ArrayBuffer are copied as
 * by memmove.
 */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, length: number): void {
  if (length <= 0) return;
  if (ArrayBuffer.isView(src) && ArrayBuffer.isView(dst)) {
    const from = src.byteOffset + srcOff;
    if (src.buffer === dst.buffer) {
      const to = dst.byteOffset + dstOff;
      if (to !== from) wholeView(src.buffer).copyWithin(to, from, from + length);
      return;
    }
    if (length >= NATIVE_MIN_LENGTH) {
      bufferFill.call(dst, patternView(src.buffer, from), dstOff, dstOff + length);
      return;
    }
  }
  if (src === dst && dstOff > srcOff && dstOff < srcOff + length) {
    for (let i = length - 1; i >= 0; i--) dst[dstOff + i] = src[srcOff + i];
    return;
  }
  for (let i = 0; i < length; i++) dst[dstOff + i] = src[srcOff + i];
}

/** True when a and b are views of one ArrayBuffer (copies between them are memmoves). */
export function sharesArrayBuffer(a: Uint8Array, b: Uint8Array): boolean {
  return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && a.buffer === b.buffer;
}

function wholeView(buffer: ArrayBufferLike): Uint8Array {
  let view = wholeViews.get(buffer);
  if (view === undefined) {
    view = new Uint8Array(buffer);
    wholeViews.set(buffer, view);
  }
  return view;
}

function patternView(buffer: ArrayBufferLike, start: number): Uint8Array {
  let perBuffer = patternViews.get(buffer);
  if (perBuffer === undefined) {
    perBuffer = new Map();
    patternViews.set(buffer, perBuffer);
  }
  let view = perBuffer.get(start);
  if (view === undefined) {
    if (perBuffer.size >= PATTERN_CACHE_LIMIT) perBuffer.clear();
    view = new Uint8Array(buffer, start);
    perBuffer.set(start, view);
  }
  return view;
}
