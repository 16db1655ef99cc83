import type { PacketBatch } from '@dvs/netdev';

/**
 * Copies a frame between two batches without allocating per copy.
 *
 * Buffer.copy and TypedArray.set need a view of exactly the source range and
 * make one on every call (an allocation per frame); copyWithin works only
 * inside one buffer, and a JavaScript word loop is 3–4× slower than memcpy.
 * Buffer.fill with a Buffer pattern is a native memcpy when the pattern is at
 * least as long as the range: so the source is a view that starts at the
 * frame and runs to the end of its slot, made once per (slot, start) and
 * cached. Frames start at a handful of offsets (headroom, ±4 for a tag, +8
 * after decap), so the cache stays small and stops growing after warm-up.
 */
export class FrameCopier {
  private readonly views = new WeakMap<PacketBatch, Map<number, Buffer>>();

  /** Copies packet `from` of `src` into slot `to` of `dst` at `headroom`; sets its offset and length. */
  copy(src: PacketBatch, from: number, dst: PacketBatch, to: number, headroom: number): void {
    const len = src.lengths[from];
    const offset = src.offsets[from];
    const d = to * dst.slotSize + headroom;
    dst.offsets[to] = headroom;
    dst.lengths[to] = len;
    if (len === 0) return;
    dst.buffer.fill(this.viewOf(src, from, offset), d, d + len);
  }

  /** src's bytes from slot `slot`'s `offset` to the end of the slot (cached). */
  private viewOf(src: PacketBatch, slot: number, offset: number): Buffer {
    let perBatch = this.views.get(src);
    if (perBatch === undefined) this.views.set(src, (perBatch = new Map()));
    const key = slot * 65536 + offset;
    let view = perBatch.get(key);
    if (view === undefined) {
      const base = slot * src.slotSize;
      view = src.buffer.subarray(base + offset, base + src.slotSize);
      perBatch.set(key, view);
    }
    return view;
  }
}
