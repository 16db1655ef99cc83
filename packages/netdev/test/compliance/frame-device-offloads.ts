import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIRTIO_NET_HDR_GSO_NONE, VirtioNetHeader, decodeVirtioNetHeader } from '@dvs/wire';
import { PacketBatch } from '../../src/index.js';
import { waitFor } from '@dvs/test-support';
import type { FrameDeviceHarness } from './frame-device.js';
import { isTestFrame, testFrame } from './frames.js';

/** A header refused by the kernel's tun_get_user/virtio_net_hdr_to_skb (and by @dvs/wire's decode). */
export const REFUSED_HEADERS: Record<string, number[]> = {
  'an unknown GSO type': [1, 7, 0, 0, 100, 0, 14, 0, 16, 0],
  'hdr_len past the frame': [0, 0, 0xff, 0x0f, 0, 0, 0, 0, 0, 0],
  'the checksum field past the frame': [1, 0, 0, 0, 0, 0, 90, 0, 16, 0],
  'GSO with gso_size 0': [1, 1, 54, 0, 0, 0, 34, 0, 16, 0],
};

/** Puts `header` (padded with zeros to h bytes) and `frame` in slot `slot` at `offset`. */
function placeWithHeader(
  batch: PacketBatch,
  slot: number,
  header: number[],
  h: number,
  frame: Buffer,
  offset = 0,
): void {
  const at = slot * batch.slotSize + offset;
  batch.buffer.fill(0, at, at + h);
  Buffer.from(header).copy(batch.buffer, at);
  frame.copy(batch.buffer, at + h);
  batch.offsets[slot] = offset;
  batch.lengths[slot] = h + frame.length;
}

/**
 * The FrameDevice contract for a device with offloads (types.ts, "Offloads"):
 * frames carry a virtio-net header of `offloads.vnetHeaderLength` bytes in
 * both directions. `open` gives a harness whose device was opened with
 * offloads and whose wire side, as before, sends and sees plain frames.
 */
export function frameDeviceOffloadCompliance(label: string, open: () => Promise<FrameDeviceHarness>): void {
  describe(`FrameDevice with offloads: ${label}`, () => {
    let h: FrameDeviceHarness;
    let length: number;
    beforeEach(async () => {
      h = await open();
      length = h.device.offloads?.vnetHeaderLength ?? 0;
    });
    afterEach(() => h.dispose());

    test('the device says it carries a 10- or 12-byte virtio-net header', () => {
      assert.ok(length === 10 || length === 12, `vnetHeaderLength ${length}`);
      assert.ok(Array.isArray(h.device.offloads?.enabled));
      assert.ok(Array.isArray(h.device.offloads?.refused));
    });

    test('read() returns header + frame at the headroom: the header decodes, the frame is as sent', async () => {
      const batch = new PacketBatch(4, 2048);
      const sent = testFrame(5, 300);
      h.inject(sent);
      let n = 0;
      await waitFor('the frame', () => (n = h.device.read(batch, 48)) > 0, 5000, 2);
      assert.equal(n, 1);
      assert.equal(batch.offsets[0], 48);
      assert.equal(batch.lengths[0], length + sent.length);
      const start = batch.start(0);
      const header = decodeVirtioNetHeader(batch.buffer, start, batch.lengths[0], length, new VirtioNetHeader());
      assert.ok(header.ok, 'the header decodes');
      assert.equal(header.gsoType, VIRTIO_NET_HDR_GSO_NONE);
      if (length === 12) assert.equal(header.numBuffers, 0, 'num_buffers is zero, not a stale byte');
      assert.deepEqual(batch.buffer.subarray(start + length, start + batch.lengths[0]), sent);
    });

    test('a frame whose header + frame exceeds the slot is dropped and counted', async () => {
      const batch = new PacketBatch(2, 256);
      h.inject(testFrame(1, 256 - 32 - length + 1));
      h.inject(testFrame(2, 100));
      const got: Buffer[] = [];
      await waitFor(
        'the small frame',
        () => {
          const n = h.device.read(batch, 32);
          for (let i = 0; i < n; i++)
            got.push(batch.buffer.subarray(batch.start(i) + length, batch.start(i) + batch.lengths[i]));
          return got.some(isTestFrame);
        },
        5000,
        2,
      );
      assert.deepEqual(
        got.filter(isTestFrame).map((f) => f.readUInt32BE(14)),
        [2],
      );
      assert.equal(h.device.stats?.readDropsTooBig, 1);
    });

    test('write() takes header + frame; an all-zero header writes the frame as it is', async () => {
      const batch = new PacketBatch(2, 2048);
      placeWithHeader(batch, 0, [], length, testFrame(10, 200), 16);
      placeWithHeader(batch, 1, [], length, testFrame(11, 1400), 0);
      assert.equal(h.device.write(batch, [1, 0], 2), 2);
      const got: Buffer[] = [];
      await waitFor('two frames', () => got.push(...h.takeWritten()) >= 2, 5000, 2);
      assert.deepEqual(got, [testFrame(11, 1400), testFrame(10, 200)]);
      assert.equal(h.device.stats?.framesWritten, 2);
    });

    test('a header the kernel refuses is consumed and counted, never thrown; its neighbours go out', async () => {
      const refused = Object.values(REFUSED_HEADERS);
      const batch = new PacketBatch(refused.length + 3, 2048);
      const order: number[] = [];
      placeWithHeader(batch, 0, [], length, testFrame(20));
      order.push(0);
      refused.forEach((header, i) => {
        placeWithHeader(batch, i + 1, header, length, testFrame(30 + i, 100));
        order.push(i + 1);
      });
      // A runt: shorter than header + an Ethernet header.
      const runt = refused.length + 1;
      batch.offsets[runt] = 0;
      batch.lengths[runt] = length + 10;
      order.push(runt);
      placeWithHeader(batch, refused.length + 2, [], length, testFrame(21));
      order.push(refused.length + 2);
      assert.equal(h.device.write(batch, order, order.length), order.length);
      const got: Buffer[] = [];
      await waitFor('the two good frames', () => got.push(...h.takeWritten()) >= 2, 5000, 2);
      assert.deepEqual(
        got.map((f) => f.readUInt32BE(14)),
        [20, 21],
      );
      assert.equal(h.device.stats?.writeDropsInvalid, refused.length + 1);
      assert.equal(h.device.stats?.framesWritten, 2);
    });
  });
}
