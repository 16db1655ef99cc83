import type { PacketBatch } from '@dvs/netdev';

/**
 * Copies a frame between two batches without allocating. Buffer.copy (and
 * TypedArray.set) need a view of exactly the source range, and making that
 * view allocates on every call; copyWithin does not allocate but only works
 * inside one buffer. So frames are copied 32 bits at a time through
 * word views of each batch's whole buffer, made once per batch and cached.
 * Frame starts are 4-byte aligned in practice (headroom 64, ±4 for a tag,
 * +8 for a tunnel header); an unaligned copy falls back to Buffer.copy.
 */
export class FrameCopier {
  private readonly words = new WeakMap<PacketBatch, Uint32Array | null>();

  /** Copies packet `from` of `src` into slot `to` of `dst` at `headroom`; sets offset and length. */
  copy(src: PacketBatch, from: number, dst: PacketBatch, to: number, headroom: number): void {
    const len = src.lengths[from];
    const s = src.start(from);
    const d = to * dst.slotSize + headroom;
    dst.offsets[to] = headroom;
    dst.lengths[to] = len;
    const sw = this.wordsOf(src);
    const dw = this.wordsOf(dst);
    if (sw === null || dw === null || (s & 3) !== 0 || (d & 3) !== 0) {
      src.buffer.copy(dst.buffer, d, s, s + len);
      return;
    }
    const n = len >>> 2;
    const sWord = s >>> 2;
    const dWord = d >>> 2;
    for (let k = 0; k < n; k++) dw[dWord + k] = sw[sWord + k];
    const sb = src.buffer;
    const db = dst.buffer;
    for (let k = n << 2; k < len; k++) db[d + k] = sb[s + k];
  }

  private wordsOf(batch: PacketBatch): Uint32Array | null {
    let w = this.words.get(batch);
    if (w === undefined) {
      const b = batch.buffer;
      w =
        b.byteOffset % 4 === 0 && b.byteLength % 4 === 0
          ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4)
          : null;
      this.words.set(batch, w);
    }
    return w;
  }
}
