import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, openTapSync } from '../src/index.js';
import { LabNamespace, PacketSocket } from '../src/testing/index.js';
import { place, testFrame } from './compliance/frames.js';
import { waitFor } from '@dvs/test-support';

// The AF_PACKET helper other tests use as the wire side of an interface.

let ns: LabNamespace;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}k`);
});
after(() => ns.dispose());

/** testFrame with an 802.1Q tag (VID `vid`) after the MAC addresses. */
function taggedFrame(tag: number, vid: number): Buffer {
  const untagged = testFrame(tag, 64);
  return Buffer.concat([
    untagged.subarray(0, 12),
    Buffer.from([0x81, 0x00, vid >> 8, vid & 0xff]),
    untagged.subarray(12),
  ]);
}

test('a tagged frame keeps its 802.1Q tag in place, even when the kernel offloads it; readable fires', async () => {
  const name = `dvn${process.pid}k0`;
  const { tap, wire } = ns.run(() => {
    const tap = openTapSync({ name });
    return { tap, wire: new PacketSocket(name) };
  });
  try {
    const got: Buffer[] = [];
    const rx = new PacketBatch(8, 2048);
    wire.onReadable(() => {
      const n = wire.recv(rx, 4);
      for (let i = 0; i < n; i++) got.push(Buffer.from(rx.buffer.subarray(rx.start(i), rx.start(i) + rx.lengths[i])));
    });
    const out = new PacketBatch(2, 2048);
    place(out, 0, taggedFrame(1, 42), 0);
    place(out, 1, testFrame(2, 64), 0);
    assert.equal(tap.write(out, [0, 1], 2), 2);
    await waitFor('both frames on the wire side', () => got.length >= 2, 5000, 2);
    assert.deepEqual(got[0], taggedFrame(1, 42));
    assert.deepEqual(got[1], testFrame(2, 64));
    wire.onReadable(null);
  } finally {
    wire.close();
    tap.close();
  }
});
