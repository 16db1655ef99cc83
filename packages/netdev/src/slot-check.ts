import type { PacketBatch } from './packet-batch.js';

/**
 * Argument checks shared by every device implementation, so the fakes and the
 * native devices reject the same programmer errors the same way (RangeError)
 * before any byte moves. Bad *packets* are never thrown: they are counted.
 */

/** `headroom` must leave at least one byte of the slot. */
export function checkHeadroom(batch: PacketBatch, headroom: number): void {
  if (!Number.isInteger(headroom) || headroom < 0 || headroom >= batch.slotSize) {
    throw new RangeError(`headroom must be 0..${batch.slotSize - 1}, got ${headroom}`);
  }
}

/** slots[0..n-1] must name slots of `batch` whose offset + length stays inside the slot. */
export function checkSlots(batch: PacketBatch, slots: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > slots.length || n > 1024) {
    throw new RangeError(`n must be 0..min(slots.length, 1024), got ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const slot = slots[i];
    if (!Number.isInteger(slot) || slot < 0 || slot >= batch.capacity) {
      throw new RangeError(`slot ${slot} is not a slot of a batch of ${batch.capacity}`);
    }
    if (batch.offsets[slot] + batch.lengths[slot] > batch.slotSize) {
      throw new RangeError(`slot ${slot}: offset + length exceeds slotSize ${batch.slotSize}`);
    }
  }
}
