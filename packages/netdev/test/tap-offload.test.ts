import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, describeOffloads, openTapSync } from '../src/index.js';
import type { TapDevice } from '../src/index.js';
import { LabNamespace, runTcpTransfer } from '../src/testing/index.js';
import { forwardAsIs, forwardSegmenting } from './support/offload-path.js';

// TAPs with offloads, proven with the kernel's own TCP: two namespaces, each
// with a TAP of ours as its only interface; this process joins the two TAPs.
// The sender's stack hands its TAP 64 KiB GSO_TCPV4 super-frames (TSO is on
// because we asked for it); @dvs/wire's segmentation cuts them into segments
// the receiver's TAP takes behind all-zero headers; or the coalescer glues
// the segments back and the receiver's TAP takes GSO super-frames. Every byte
// must arrive: the SHA-256 of what was sent equals that of what was received.

const MIB = 2 ** 20;
const SENDER = '203.0.113.1';
const RECEIVER = '203.0.113.2';

let a: LabNamespace;
let b: LabNamespace;
let index = 0;
before(() => {
  a = new LabNamespace(`dvn${process.pid}oa`);
  b = new LabNamespace(`dvn${process.pid}ob`);
});
after(() => {
  a.dispose();
  b.dispose();
});

/** A TAP with every offload, as the only interface of `ns`, holding `address`/24. */
function tapIn(ns: LabNamespace, address: string, offloads: Parameters<typeof openTapSync>[0]['offloads'] = true): TapDevice {
  const name = `dvn${process.pid}o${index++}`;
  const tap = ns.run(() => openTapSync({ name, mtu: 1500, offloads }));
  ns.ip('addr', 'add', `${address}/24`, 'dev', name);
  return tap;
}

test('a TAP opened with offloads takes CSUM, TSO4/6, TSO-ECN and USO; without, it has no header', () => {
  const on = tapIn(a, '203.0.113.101');
  const off = tapIn(b, '203.0.113.102', false);
  try {
    assert.equal(on.offloads.vnetHeaderLength, 10);
    assert.deepEqual([...on.offloads.enabled], ['csum', 'tso4', 'tso6', 'tsoEcn', 'uso4', 'uso6']);
    assert.deepEqual(on.offloads.refused, []);
    const features = a.ip('-d', 'link', 'show', on.name);
    assert.match(describeOffloads(on.name, on.offloads), /10-byte virtio-net header, offloads csum, tso4/);
    assert.ok(features.length > 0);
    assert.equal(off.offloads.vnetHeaderLength, 0);
    assert.deepEqual(off.offloads.enabled, []);
  } finally {
    on.close();
    off.close();
  }
});

test('a TCP stream through TAPs with offloads: super-frames segmented by @dvs/wire arrive byte for byte', async () => {
  const from = tapIn(a, SENDER);
  const to = tapIn(b, RECEIVER);
  const forward = forwardSegmenting(from, to, { coalesce: false });
  const back = forwardAsIs(to, from);
  try {
    const result = await runTcpTransfer({ from: a.name, to: b.name, address: RECEIVER, port: 5201, bytes: 4 * MIB });
    assert.equal(result.received.bytes, 4 * MIB);
    assert.equal(result.received.sha256, result.sent.sha256);
    const s = forward.stats;
    assert.ok(s.superFrames > 0, 'the sender handed over GSO super-frames');
    assert.ok(s.largestFrame > 1514, `a frame longer than the MTU was read (largest ${s.largestFrame} B)`);
    assert.ok(s.segments > s.superFrames, 'super-frames were cut into several segments each');
    assert.equal(s.dropped, 0);
  } finally {
    forward.stop();
    back();
    from.close();
    to.close();
  }
});

test('coalesced GSO_TCPV4 super-frames written to a TAP are taken and delivered as a valid TCP stream', async () => {
  const from = tapIn(a, SENDER);
  const to = tapIn(b, RECEIVER);
  const forward = forwardSegmenting(from, to, { coalesce: true });
  const back = forwardAsIs(to, from);
  try {
    const result = await runTcpTransfer({ from: a.name, to: b.name, address: RECEIVER, port: 5202, bytes: 4 * MIB });
    assert.equal(result.received.bytes, 4 * MIB);
    assert.equal(result.received.sha256, result.sent.sha256);
    assert.ok(forward.stats.coalesced > 0, 'the coalescer wrote super-frames');
    assert.equal(to.stats.writeDropsInvalid, 0, 'the TAP took every super-frame we wrote');
  } finally {
    forward.stop();
    back();
    from.close();
    to.close();
  }
});

test('a plain TAP without offloads carries the same stream as MTU-sized frames', async () => {
  const from = tapIn(a, SENDER, false);
  const to = tapIn(b, RECEIVER, false);
  const forward = forwardAsIs(from, to);
  const back = forwardAsIs(to, from);
  const batch = new PacketBatch(1, 2048);
  try {
    const result = await runTcpTransfer({ from: a.name, to: b.name, address: RECEIVER, port: 5203, bytes: 2 * MIB });
    assert.equal(result.received.sha256, result.sent.sha256);
    assert.equal(from.stats.readDropsTooBig, 0, 'no super-frame reached a TAP without offloads');
    assert.equal(from.read(batch, 0), 0);
  } finally {
    forward();
    back();
    from.close();
    to.close();
  }
});
