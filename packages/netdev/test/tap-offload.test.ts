import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { waitFor } from '@dvs/test-support';
import { PacketBatch, describeOffloads, openTapSync } from '../src/index.js';
import type { TapDevice } from '../src/index.js';
import { LabNamespace, runTcpTransfer } from '../src/testing/index.js';
import { forwardAsIs, forwardSegmenting } from '../src/testing/offload-path.js';

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

/** Makes `ns` send an ARP request out of `tap` (a ping to an address nobody has) and reads it with its header. */
async function forwardOneArp(ns: LabNamespace, tap: TapDevice, target: string, batch: PacketBatch): Promise<void> {
  const h = tap.offloads.vnetHeaderLength;
  const ping = spawn('ip', ['netns', 'exec', ns.name, 'ping', '-c', '3', '-i', '0.2', '-W', '1', target], {
    stdio: 'ignore',
  });
  try {
    await waitFor(
      'an ARP request from the namespace',
      () => {
        const n = tap.read(batch, 0);
        for (let i = 0; i < n; i++) {
          const start = batch.start(i);
          if (batch.buffer.readUInt16BE(start + h + 12) === 0x0806) return true;
        }
        return false;
      },
      5000,
      5,
    );
  } finally {
    ping.kill();
  }
}

/** A TAP with every offload, as the only interface of `ns`, holding `address`/24. */
function tapIn(
  ns: LabNamespace,
  address: string,
  offloads: Parameters<typeof openTapSync>[0]['offloads'] = true,
): TapDevice {
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

test('offloads the kernel refuses are reported once in offloads.refused; the rest are taken and frames flow', async () => {
  // This kernel takes USO4 only together with USO6, and nothing but CSUM
  // without CSUM: real refusals (EINVAL), not simulated ones.
  const noPair = tapIn(a, '203.0.113.103', { uso6: false });
  const noCsum = tapIn(b, '203.0.113.104', { csum: false, headerLength: 12 });
  try {
    assert.deepEqual([...noPair.offloads.enabled], ['csum', 'tso4', 'tso6', 'tsoEcn']);
    assert.deepEqual(
      noPair.offloads.refused.map((r) => [r.offload, r.errno]),
      [['uso4', 'EINVAL']],
    );
    assert.match(noPair.offloads.refused[0].reason, /only as a pair/);
    assert.match(describeOffloads(noPair.name, noPair.offloads), /refused: uso4 EINVAL/);
    assert.equal(noCsum.offloads.vnetHeaderLength, 12, 'the header stays: only offloads were refused');
    assert.deepEqual(noCsum.offloads.enabled, []);
    assert.deepEqual(
      noCsum.offloads.refused.map((r) => r.offload),
      ['tso4', 'tso6', 'tsoEcn', 'uso4', 'uso6'],
    );
    assert.ok(noCsum.offloads.refused.every((r) => r.errno === 'EINVAL' && /needs csum/.test(r.reason)));
    assert.ok(Object.isFrozen(noPair.offloads) && Object.isFrozen(noPair.offloads.refused), 'fixed at open');
    // Still a working TAP: ARP from the namespace comes out behind a 12-byte header.
    const batch = new PacketBatch(8, 2048);
    await forwardOneArp(b, noCsum, '203.0.113.200', batch);
  } finally {
    noPair.close();
    noCsum.close();
  }
});

test('a TCP stream through TAPs with offloads: super-frames segmented by @dvs/wire arrive byte for byte', async () => {
  const from = tapIn(a, SENDER);
  const to = tapIn(b, RECEIVER);
  const forward = forwardSegmenting(from, to, { coalesce: false });
  const back = forwardAsIs(to, from).stop;
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
  const back = forwardAsIs(to, from).stop;
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

test('IPv6: GSO_TCPV6 super-frames segmented and coalesced again carry a TCP stream byte for byte', async () => {
  const from = tapIn(a, '203.0.113.11');
  const to = tapIn(b, '203.0.113.12');
  for (const [ns, tap, address] of [
    [a, from, '2001:db8::1'],
    [b, to, '2001:db8::2'],
  ] as const) {
    execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${tap.name}.disable_ipv6=0`]);
    ns.ip('-6', 'addr', 'add', `${address}/64`, 'dev', tap.name, 'nodad');
  }
  const forward = forwardSegmenting(from, to, { coalesce: true });
  const back = forwardAsIs(to, from).stop;
  try {
    const result = await runTcpTransfer({
      from: a.name,
      to: b.name,
      address: '2001:db8::2',
      port: 5204,
      bytes: 4 * MIB,
    });
    assert.equal(result.received.bytes, 4 * MIB);
    assert.equal(result.received.sha256, result.sent.sha256);
    assert.ok(forward.stats.superFrames > 0 && forward.stats.largestFrame > 1514, 'GSO_TCPV6 super-frames were read');
    assert.ok(forward.stats.coalesced > 0, 'and coalesced ones written');
    assert.equal(forward.stats.dropped, 0);
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
  const back = forwardAsIs(to, from).stop;
  try {
    const result = await runTcpTransfer({ from: a.name, to: b.name, address: RECEIVER, port: 5203, bytes: 2 * MIB });
    assert.equal(result.received.sha256, result.sent.sha256);
    assert.equal(from.stats.readDropsTooBig, 0, 'no super-frame reached a TAP without offloads');
    assert.ok(forward.stats.largestFrame <= 1514, `every frame fits the MTU (largest ${forward.stats.largestFrame} B)`);
    assert.ok(forward.stats.read > (2 * MIB) / 1500, 'one read per MTU-sized frame');
  } finally {
    forward.stop();
    back();
    from.close();
    to.close();
  }
});
