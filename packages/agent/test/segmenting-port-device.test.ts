import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, openTapSync, type TapDevice } from '@dvs/netdev';
import { LabNamespace, runTcpTransfer } from '@dvs/netdev/testing';
import { SegmentingPortDevice } from '../src/datapath/segmenting-port-device.js';

// A TAP port with offloads as the data path sees it: two namespaces, each
// with a TAP (TSO on) as its only interface, joined by this process through
// two SegmentingPortDevices in a batch of the data path's shape (HEADROOM 64,
// 64 slots). The kernel's TCP hands over 64 KiB super-frames; they come out
// of read() as MTU-sized segments, and write() gives them to the other TAP
// behind all-zero headers. Every byte must arrive (SHA-256 of both ends).

const MIB = 2 ** 20;
const HEADROOM = 64;
let a: LabNamespace;
let b: LabNamespace;
let index = 0;
before(() => {
  a = new LabNamespace(`dvs${process.pid}ga`);
  b = new LabNamespace(`dvs${process.pid}gb`);
});
after(() => {
  a.dispose();
  b.dispose();
});

function tapIn(ns: LabNamespace, address: string): TapDevice {
  const name = `dvs${process.pid}g${index++}`;
  const tap = ns.run(() => openTapSync({ name, mtu: 1450, offloads: true }));
  ns.ip('addr', 'add', `${address}/24`, 'dev', name);
  return tap;
}

/** from → to, as the data path polls a port: read a batch, write it all, again while batches come back full. */
function join(from: SegmentingPortDevice, to: SegmentingPortDevice): { largest: number; written: number } {
  const batch = new PacketBatch(64, 9344);
  const slots = Uint32Array.from(batch.offsets.keys());
  const seen = { largest: 0, written: 0 };
  from.onReadable(() => {
    for (let round = 0; round < 16; round++) {
      const n = from.read(batch, HEADROOM);
      for (let i = 0; i < n; i++) seen.largest = Math.max(seen.largest, batch.lengths[i]);
      seen.written += to.write(batch, slots, n);
      if (n < batch.capacity) return;
    }
  });
  return seen;
}

test('super-frames from a TAP with offloads come out as MTU-sized segments, are coalesced again into the other TAP, intact', async () => {
  const left = new SegmentingPortDevice(tapIn(a, '203.0.113.1'));
  const right = new SegmentingPortDevice(tapIn(b, '203.0.113.2'));
  const there = join(left, right);
  join(right, left);
  try {
    const result = await runTcpTransfer({
      from: a.name,
      to: b.name,
      address: '203.0.113.2',
      port: 5201,
      bytes: 8 * MIB,
    });
    assert.equal(result.received.bytes, 8 * MIB);
    assert.equal(result.received.sha256, result.sent.sha256, 'every byte arrived intact');
    const c = left.counters;
    assert.ok(c.superFrames > 0, 'the sender handed over TSO super-frames');
    assert.ok(
      c.segments > c.superFrames * 2,
      `each was cut into several segments (${c.segments} from ${c.superFrames})`,
    );
    assert.ok(there.largest <= 14 + 1450, `no frame the pipeline saw is over the MTU (largest ${there.largest} B)`);
    assert.equal(c.badHeaders + c.unsegmentable, 0);
    console.log(
      `# ${c.superFrames} super-frames cut into ${c.segments} segments; largest frame out ${there.largest} B`,
    );
    assert.equal(right.stats?.writeDropsInvalid, 0, 'the receiving TAP took every frame and super-frame header');
    const w = right.writer.counters;
    console.log(`# the receiving side wrote ${w.coalesced} super-frames of ${w.coalescedSegments} segments`);
    assert.ok(w.coalesced > 0 && w.coalescedSegments > w.coalesced, 'segments were coalesced into super-frames');
  } finally {
    left.close();
    right.close();
  }
});

test('a malformed virtio-net header is dropped and counted, and the next frame still comes through', () => {
  // The device reads from a TAP; a stand-in TAP hands over two frames: one with unknown flags, one good ARP.
  const frames = [Buffer.alloc(10 + 60), Buffer.alloc(10 + 60)];
  frames[0][0] = 0x80; // an unknown flag
  frames[1].writeUInt16BE(0x0806, 10 + 12);
  frames[1].fill(0xff, 10, 16);
  const stand = {
    name: 'fake',
    mtu: 1500,
    offloads: { vnetHeaderLength: 10 as const, enabled: [], refused: [] },
    read(batch: PacketBatch, headroom: number): number {
      const n = frames.length;
      frames.splice(0).forEach((f, i) => {
        f.copy(batch.buffer, i * batch.slotSize + headroom);
        batch.offsets[i] = headroom;
        batch.lengths[i] = f.length;
      });
      return n;
    },
    write: () => 0,
    writeHeaderless: () => 0,
    onReadable: () => undefined,
    close: () => undefined,
  };
  const device = new SegmentingPortDevice(stand);
  const batch = new PacketBatch(4, 2048);
  assert.equal(device.read(batch, HEADROOM), 1, 'only the good frame');
  assert.equal(batch.lengths[0], 60);
  assert.equal(batch.buffer.readUInt16BE(batch.start(0) + 12), 0x0806);
  assert.equal(device.counters.badHeaders, 1);
});

test('a TAP read that came back short is not followed by another one in the same read()', () => {
  // A stand-in TAP that counts its reads: the first returns `first` plain frames, later ones none.
  const standIn = (first: number) => {
    let frames = first;
    const stand = {
      reads: 0,
      name: 'fake',
      mtu: 1500,
      offloads: { vnetHeaderLength: 10 as const, enabled: [], refused: [] },
      read(batch: PacketBatch, headroom: number): number {
        stand.reads++;
        const n = Math.min(frames, batch.capacity);
        frames -= n;
        for (let i = 0; i < n; i++) {
          batch.buffer.fill(0, i * batch.slotSize + headroom, i * batch.slotSize + headroom + 10 + 60);
          batch.buffer.writeUInt16BE(0x0806, i * batch.slotSize + headroom + 10 + 12);
          batch.offsets[i] = headroom;
          batch.lengths[i] = 10 + 60;
        }
        return n;
      },
      write: () => 0,
      writeHeaderless: () => 0,
      onReadable: () => undefined,
      close: () => undefined,
    };
    return stand;
  };
  const one = standIn(1);
  const batch = new PacketBatch(64, 2048);
  assert.equal(new SegmentingPortDevice(one).read(batch, HEADROOM), 1);
  assert.equal(one.reads, 1, 'one frame, one TAP read');
  // A full input (16 frames) may leave more behind: the device reads on.
  const full = standIn(20);
  assert.equal(new SegmentingPortDevice(full).read(batch, HEADROOM), 20);
  assert.equal(full.reads, 2, 'a full read, then the short one that drained it');
});

test('without coalescing (an attached device, offloads off), write() hands every frame over plain, behind no GSO header', () => {
  const calls = { plain: 0, withHeader: 0 };
  const stand = {
    name: 'fake',
    mtu: 1500,
    offloads: { vnetHeaderLength: 10 as const, enabled: [], refused: [] },
    read: () => 0,
    write: (_b: PacketBatch, _s: ArrayLike<number>, n: number) => ((calls.withHeader += n), n),
    // Room for all but one: the last is dropped and counted.
    writeHeaderless: (_b: PacketBatch, _s: ArrayLike<number>, n: number) => ((calls.plain += n), n - 1),
    onReadable: () => undefined,
    close: () => undefined,
  };
  const device = new SegmentingPortDevice(stand, { coalesce: false });
  // Eight TCP frames of one flow, in order.
  const batch = new PacketBatch(8, 2048);
  for (let i = 0; i < 8; i++) {
    const at = batch.start(i);
    batch.buffer.fill(0, at, at + 14 + 20 + 20 + 100);
    batch.buffer.writeUInt16BE(0x0800, at + 12);
    batch.buffer.writeUInt8(0x45, at + 14);
    batch.buffer.writeUInt16BE(20 + 20 + 100, at + 16);
    batch.buffer.writeUInt8(64, at + 22);
    batch.buffer.writeUInt8(6, at + 23);
    batch.buffer.writeUInt32BE(1000 + 100 * i, at + 34 + 4);
    batch.buffer.writeUInt8(0x50, at + 34 + 12);
    batch.buffer.writeUInt8(0x10, at + 34 + 13);
    batch.lengths[i] = 14 + 20 + 20 + 100;
  }
  assert.equal(device.write(batch, Uint32Array.from(batch.offsets.keys()), 8), 8, 'every frame taken or counted');
  assert.deepEqual(calls, { plain: 8, withHeader: 0 });
  assert.deepEqual(device.writer.counters, { coalesced: 0, coalescedSegments: 0, writeDrops: 1 });
});
