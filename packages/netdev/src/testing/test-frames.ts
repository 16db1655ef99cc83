// Test frames shared by the compliance suites and the TAP holder: easy to tell from kernel chatter.
import type { PacketBatch } from '../packet-batch.js';

/** IEEE "local experimental" EtherType: test frames use it so kernel chatter is easy to tell apart. */
export const TEST_ETHERTYPE = 0x88b5;

/** A test frame: broadcast-free unicast MACs, TEST_ETHERTYPE, payload = tag + filler up to `length`. */
export function testFrame(tag: number, length = 64): Buffer {
  const frame = Buffer.alloc(length);
  Buffer.from([0x02, 0, 0, 0, 0, 0x02]).copy(frame, 0);
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(frame, 6);
  frame.writeUInt16BE(TEST_ETHERTYPE, 12);
  if (length >= 18) frame.writeUInt32BE(tag, 14);
  for (let i = 18; i < length; i++) frame[i] = (tag + i) & 0xff;
  return frame;
}

export function isTestFrame(frame: Buffer): boolean {
  return frame.length >= 18 && frame.readUInt16BE(12) === TEST_ETHERTYPE;
}

/** Copies of packets 0..n-1 of a batch. */
export function packetsOf(batch: PacketBatch, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++)
    out.push(Buffer.from(batch.buffer.subarray(batch.start(i), batch.start(i) + batch.lengths[i])));
  return out;
}

/** Puts `packet` in slot `slot` of `batch` at `offset`. */
export function place(batch: PacketBatch, slot: number, packet: Buffer, offset: number): void {
  packet.copy(batch.buffer, slot * batch.slotSize + offset);
  batch.offsets[slot] = offset;
  batch.lengths[slot] = packet.length;
}
