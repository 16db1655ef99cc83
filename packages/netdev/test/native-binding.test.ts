import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../src/index.js';
import { nativeBinding } from '../src/native-binding.js';

// The addon re-checks every argument itself: a wrong call is a RangeError,
// never a read or write outside the batch.

test('the addon rejects malformed batch arguments with RangeError', () => {
  const b = nativeBinding();
  const batch = new PacketBatch(4, 128);
  const drops = new Float64Array(1);
  const args = [batch.buffer, batch.slotSize, batch.capacity, batch.offsets, batch.lengths] as const;
  // A buffer smaller than slotSize * capacity.
  assert.throws(
    () => b.tapRead(-1, batch.buffer, 256, 4, batch.offsets, batch.lengths, 0, batch.family, drops),
    RangeError,
  );
  // offsets of the wrong type, headroom past the slot, a missing counter.
  assert.throws(
    () => b.tapRead(-1, batch.buffer, 128, 4, new Float64Array(4) as never, batch.lengths, 0, batch.family, drops),
    RangeError,
  );
  assert.throws(() => b.tapRead(-1, ...args, 128, batch.family, drops), RangeError);
  assert.throws(() => b.tapRead(-1, ...args, 0, batch.family, undefined as never), RangeError);
  // A slot index past capacity, and offset + length past the slot.
  assert.throws(() => b.tapWrite(-1, ...args, Uint32Array.of(4), 1, drops), RangeError);
  batch.offsets[0] = 100;
  batch.lengths[0] = 29;
  assert.throws(() => b.tapWrite(-1, ...args, Uint32Array.of(0), 1, drops), RangeError);
  // n larger than the slot list.
  assert.throws(() => b.tapWrite(-1, ...args, Uint32Array.of(1), 2, drops), RangeError);
  // Address arrays shorter than capacity.
  assert.throws(
    () => b.udpRecv(-1, ...args, 0, new Uint8Array(1), batch.ipv4, batch.ipv6, batch.port, drops),
    RangeError,
  );
  assert.throws(() => b.udpOpen(4, new Uint8Array(3), 0, 0, 0, false), RangeError);
});

test('a call on a closed fd is a system error, not a crash', () => {
  const b = nativeBinding();
  const batch = new PacketBatch(2, 128);
  const drops = new Float64Array(1);
  assert.throws(
    () => b.tapRead(-1, batch.buffer, 128, 2, batch.offsets, batch.lengths, 0, batch.family, drops),
    (err: Error & { errno?: string }) => err.errno === 'EBADF',
  );
});
