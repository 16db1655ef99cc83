import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, isNetdevError } from '../../src/index.js';
import type { FrameDevice } from '../../src/index.js';
import { isTestFrame, packetsOf, place, testFrame } from './frames.js';
import { waitFor } from '@dvs/test-support';
import { loopTurns } from './wait.js';

/**
 * What the FrameDevice compliance suite needs around a device: a way to send
 * frames to it from the wire side and to see the frames it writes. The real
 * TAP's wire side is an AF_PACKET socket on the interface; a fake's is its
 * inject()/peer.
 */
export interface FrameDeviceHarness {
  device: FrameDevice;
  /** Sends a frame towards the device (it becomes readable). */
  inject(frame: Buffer): void;
  /** Frames that left the device through write() so far, test frames only, oldest first; consumes them. */
  takeWritten(): Buffer[];
  /** Sets the administrative link state (`ip link set … up/down`). */
  setLinkUp(up: boolean): void;
  /** Closes the device (if still open) and the wire side. */
  dispose(): void;
  /**
   * Frames become readable a block at a time (a TPACKET_V3 ring): a burst
   * may be handed over in two blocks, so a read can return fewer than
   * capacity frames while more are still on their way. The suite then does
   * not require a full batch from a burst larger than one.
   */
  deliversInBlocks?: boolean;
}

/** Reads every pending test frame (skipping kernel chatter) with the given batch shape. */
function readTestFrames(device: FrameDevice, batch: PacketBatch, headroom: number): Buffer[] {
  const frames: Buffer[] = [];
  for (;;) {
    const n = device.read(batch, headroom);
    for (const f of packetsOf(batch, n)) if (isTestFrame(f)) frames.push(f);
    if (n < batch.capacity) return frames;
  }
}

async function collectWritten(h: FrameDeviceHarness, count: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  await waitFor(
    `${count} frames on the wire side`,
    () => {
      got.push(...h.takeWritten());
      return got.length >= count;
    },
    5000,
    2,
  );
  return got;
}

/** Registers the FrameDevice contract tests (types.ts) against `open`. */
export function frameDeviceCompliance(label: string, open: () => Promise<FrameDeviceHarness>): void {
  describe(`FrameDevice compliance: ${label}`, () => {
    let h: FrameDeviceHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(() => h.dispose());

    test('an injected frame becomes readable on the loop and lands at the headroom', async () => {
      const frame = testFrame(1, 100);
      const batch = new PacketBatch(8, 512);
      const seen: Buffer[] = [];
      h.device.onReadable(() => seen.push(...readTestFrames(h.device, batch, 64)));
      h.inject(frame);
      await waitFor('the frame', () => seen.length === 1, 5000, 2);
      assert.deepEqual(seen[0], frame);
      h.device.onReadable(null);
    });

    test('read() fills offsets/lengths, clears family, and returns 0 when nothing is pending', async () => {
      const batch = new PacketBatch(4, 256);
      batch.family.fill(4);
      h.inject(testFrame(7, 60));
      let n = 0;
      await waitFor('a frame', () => (n = h.device.read(batch, 32)) > 0, 5000, 2);
      assert.equal(n, 1);
      assert.equal(batch.offsets[0], 32);
      assert.equal(batch.lengths[0], 60);
      assert.equal(batch.family[0], 0);
      assert.deepEqual(packetsOf(batch, 1)[0], testFrame(7, 60));
      assert.equal(h.device.read(batch, 32), 0);
    });

    test('read() takes at most capacity frames per call, in arrival order', async () => {
      const batch = new PacketBatch(8, 256);
      for (let i = 0; i < 13; i++) h.inject(testFrame(100 + i));
      const counts: number[] = [];
      const frames: Buffer[] = [];
      await waitFor(
        '13 frames',
        () => {
          const n = h.device.read(batch, 16);
          if (n > 0) counts.push(n);
          frames.push(...packetsOf(batch, n));
          return frames.length >= 13;
        },
        5000,
        2,
      );
      assert.ok(counts.every((c) => c <= 8));
      if (h.deliversInBlocks !== true) assert.equal(Math.max(...counts), 8);
      assert.deepEqual(
        frames.map((f) => f.readUInt32BE(14)),
        Array.from({ length: 13 }, (_, i) => 100 + i),
      );
    });

    test('a frame longer than slotSize - headroom is dropped and counted, never returned', async () => {
      const batch = new PacketBatch(4, 256);
      h.inject(testFrame(1, 600));
      h.inject(testFrame(2, 100));
      const frames: Buffer[] = [];
      await waitFor(
        'the small frame',
        () => {
          frames.push(...packetsOf(batch, h.device.read(batch, 64)));
          return frames.length >= 1;
        },
        5000,
        2,
      );
      assert.equal(frames.length, 1);
      assert.equal(frames[0].readUInt32BE(14), 2);
      assert.equal(h.device.stats?.readDropsTooBig, 1);
    });

    test('write() sends slots in the given order from their offsets and returns n', async () => {
      const batch = new PacketBatch(4, 2048);
      place(batch, 0, testFrame(10, 64), 0);
      place(batch, 1, testFrame(11, 300), 100);
      place(batch, 2, testFrame(12, 1400 - 200), 50);
      assert.equal(h.device.write(batch, [2, 0, 1], 3), 3);
      const got = await collectWritten(h, 3);
      assert.deepEqual(got, [testFrame(12, 1200), testFrame(10, 64), testFrame(11, 300)]);
      assert.equal(h.device.stats?.framesWritten, 3);
    });

    test('write() accepts a Uint32Array of slots and a prefix n', async () => {
      const batch = new PacketBatch(4, 256);
      for (let i = 0; i < 4; i++) place(batch, i, testFrame(20 + i), 8);
      assert.equal(h.device.write(batch, Uint32Array.of(3, 1, 0, 2), 2), 2);
      const got = await collectWritten(h, 2);
      assert.deepEqual(
        got.map((f) => f.readUInt32BE(14)),
        [23, 21],
      );
    });

    test('a runt frame (< 14 bytes) is consumed and counted, its neighbours still go out', async () => {
      const batch = new PacketBatch(4, 256);
      place(batch, 0, testFrame(30), 0);
      place(batch, 1, Buffer.alloc(10, 0xaa), 0);
      place(batch, 2, testFrame(32), 0);
      assert.equal(h.device.write(batch, [0, 1, 2], 3), 3);
      const got = await collectWritten(h, 2);
      assert.deepEqual(
        got.map((f) => f.readUInt32BE(14)),
        [30, 32],
      );
      assert.equal(h.device.stats?.writeDropsInvalid, 1);
    });

    test('a link that is down drops and counts what is written; up again, frames flow', async () => {
      const batch = new PacketBatch(2, 256);
      place(batch, 0, testFrame(40), 0);
      place(batch, 1, testFrame(41), 0);
      h.setLinkUp(false);
      assert.equal(h.device.write(batch, [0, 1], 2), 2);
      assert.equal(h.device.stats?.writeDropsLinkDown, 2);
      h.setLinkUp(true);
      assert.equal(h.device.write(batch, [1], 1), 1);
      const got = await collectWritten(h, 1);
      assert.deepEqual(
        got.map((f) => f.readUInt32BE(14)),
        [41],
      );
      assert.equal(h.device.stats?.framesWritten, 1);
    });

    test('bad arguments are RangeErrors before anything moves', () => {
      const batch = new PacketBatch(2, 128);
      place(batch, 0, testFrame(1), 0);
      assert.throws(() => h.device.write(batch, [2], 1), RangeError);
      assert.throws(() => h.device.write(batch, [0], 2), RangeError);
      batch.offsets[1] = 100;
      batch.lengths[1] = 64;
      assert.throws(() => h.device.write(batch, [0, 1], 2), RangeError);
      assert.throws(() => h.device.read(batch, 128), RangeError);
      assert.throws(() => h.device.read(batch, -1), RangeError);
      assert.deepEqual(h.takeWritten(), []);
    });

    test('readable is level-triggered; onReadable(null) stops it', async () => {
      let calls = 0;
      h.device.onReadable(() => calls++);
      h.inject(testFrame(1));
      await waitFor('repeated readable calls while a frame is pending', () => calls >= 3, 5000, 2);
      h.device.onReadable(null);
      const stoppedAt = calls;
      await loopTurns();
      assert.equal(calls, stoppedAt);
      const batch = new PacketBatch(4, 256);
      assert.equal(readTestFrames(h.device, batch, 0).length, 1);
    });

    test('an idle watched device never calls its handler (no busy spin)', async () => {
      let calls = 0;
      h.device.onReadable(() => calls++);
      await loopTurns(50);
      assert.equal(calls, 0);
      h.device.onReadable(null);
    });

    test('onWritable fires once', async () => {
      let calls = 0;
      h.device.onWritable?.(() => calls++);
      await waitFor('writable', () => calls === 1, 5000, 2);
      await loopTurns();
      assert.equal(calls, 1);
    });

    test('close() is idempotent; use after close is DVS_CLOSED', () => {
      h.device.close();
      h.device.close();
      const batch = new PacketBatch(1, 128);
      assert.throws(
        () => h.device.read(batch, 0),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      assert.throws(
        () => h.device.write(batch, [0], 1),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      assert.throws(
        () => h.device.onReadable(() => {}),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      // Clearing handlers after close is a no-op: clean-up code runs in any order.
      h.device.onReadable(null);
      h.device.onWritable?.(null);
    });
  });
}
