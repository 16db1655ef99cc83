/**
 * The addon's frame calls over a batch. tapRead and attachRecv take one
 * argument list, as do tapWrite and attachSend (src/native/common.h,
 * FrameWriteArgs), so one caller serves a TAP, an attached device and the
 * test packet socket. `counters` are the call's Float64Array, zeroed here
 * before the call; nothing is allocated per call. Errors are the addon's, for
 * the caller to name (toNetdevError).
 */
import type { NativeFrameRead, NativeFrameWrite } from './native-binding.js';
import type { PacketBatch } from './packet-batch.js';

/** Frames read into batch from `headroom` on; the caller checked headroom. */
export function readFrameBatch(
  read: NativeFrameRead,
  fd: number,
  batch: PacketBatch,
  headroom: number,
  counters: Float64Array,
  vnetHeaderLength = 0,
): number {
  counters.fill(0);
  const { buffer, slotSize, capacity, offsets, lengths } = batch;
  return read(fd, buffer, slotSize, capacity, offsets, lengths, headroom, batch.family, counters, vnetHeaderLength);
}

/** Slots consumed from the front of slots[0..n-1]; the caller checked them (checkSlots). */
export function writeFrameBatch(
  write: NativeFrameWrite,
  fd: number,
  batch: PacketBatch,
  slots: Uint32Array,
  n: number,
  counters: Float64Array,
  vnetHeaderLength = 0,
  headerless = false,
): number {
  counters.fill(0);
  const { buffer, slotSize, capacity, offsets, lengths } = batch;
  return write(fd, buffer, slotSize, capacity, offsets, lengths, slots, n, counters, vnetHeaderLength, headerless);
}
