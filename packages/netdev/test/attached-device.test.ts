import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PacketBatch, isNetdevError, openAttachedDevice, openAttachedDeviceSync, openTapSync } from '../src/index.js';
import type { AttachBatching, AttachedDevice } from '../src/index.js';
import { LabNamespace, PacketSocket, REFLECT_OFFSET, TapHolder } from '../src/testing/index.js';
import { isTestFrame, packetsOf, place, testFrame } from './compliance/frames.js';
import { waitFor } from '@dvs/test-support';

// The attached device against each kind of device the issue names: a TAP held
// by another process as QEMU holds it, a veth end, a macvlan in bridge mode;
// no echo of its own writes; 802.1Q tags put back; a device deleted under an
// open port. Everything in a namespace of our own.

let ns: LabNamespace;
let seq = 0;
const uniqueName = (): string => `dvn${process.pid}d${seq++}`;
const INDEX_JS = fileURLToPath(new URL('../src/index.js', import.meta.url));

before(() => {
  ns = new LabNamespace(`dvn${process.pid}d`);
});
after(() => ns.dispose());

/** Collects the test frames a device reads, from its readable handler; remembers a read error. */
function collect(
  device: AttachedDevice,
  headroom = 64,
): { frames: Buffer[]; tags: () => number[]; error: () => unknown } {
  const frames: Buffer[] = [];
  let error: unknown = null;
  const batch = new PacketBatch(32, 2048);
  device.onReadable(() => {
    try {
      for (;;) {
        const n = device.read(batch, headroom);
        frames.push(...packetsOf(batch, n).filter(isTestFrame));
        if (n < batch.capacity) return;
      }
    } catch (err) {
      error = err;
      device.onReadable(null);
    }
  });
  return { frames, tags: () => frames.map((f) => f.readUInt32BE(14)), error: () => error };
}

function writeFrames(device: AttachedDevice, frames: Buffer[]): number {
  const batch = new PacketBatch(frames.length, 2048);
  frames.forEach((f, i) => place(batch, i, f, 64));
  return device.write(
    batch,
    frames.map((_, i) => i),
    frames.length,
  );
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

/** A veth pair, both ends up; returns the two names. */
function vethPair(): [string, string] {
  const name = uniqueName();
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  ns.ip('link', 'set', `${name}p`, 'up');
  ns.ip('link', 'set', name, 'up');
  return [name, `${name}p`];
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

for (const batching of ['mmsg', 'tpacket-v2', 'tpacket-v3'] as AttachBatching[]) {
  describe(`attached device (${batching})`, () => {
    test('a TAP held open by another process (as QEMU holds it): frames both ways, no echo; the holder dies → gone', async () => {
      const name = uniqueName();
      const holder = await TapHolder.start(ns.name, name);
      let port: AttachedDevice | null = null;
      try {
        // Opening the TAP itself is refused while the "VM" holds it; attaching is the way in.
        assert.throws(
          () => ns.run(() => openTapSync({ name })),
          (err) => isNetdevError(err, 'DVS_DEVICE_BUSY'),
        );
        port = ns.run(() => openAttachedDeviceSync({ name, batching }));
        assert.equal(port.kind, 'tap');
        assert.equal(port.mtu, 1500);
        const seen = collect(port);

        // VM → port.
        assert.equal(await holder.send(5, 100), 5);
        await waitFor('the VM frames at the port', () => seen.frames.length >= 5, 5000, 2);
        assert.deepEqual(seen.tags(), range(100, 5));

        // port → VM; the VM answers each frame. The port reads the answers
        // only: never the frames it wrote itself.
        assert.equal(
          writeFrames(
            port,
            range(200, 5).map((t) => testFrame(t, 200)),
          ),
          5,
        );
        await waitFor('the answers at the port', () => seen.frames.length >= 10, 5000, 2);
        assert.deepEqual((await holder.received()).slice(0, 5), range(200, 5));
        assert.deepEqual(seen.tags(), [...range(100, 5), ...range(200 + REFLECT_OFFSET, 5)]);
        assert.equal(port.stats.framesWritten, 5);
        assert.equal(port.stats.framesRead, 10);

        // The VM quits: its TAP goes with its fd.
        await holder.kill();
        await waitFor('the read to report the device gone', () => seen.error() !== null, 5000, 2);
        assert.ok(isNetdevError(seen.error(), 'DVS_DEVICE_GONE'));
        assert.equal(port.gone, true);
        assert.equal(writeFrames(port, [testFrame(1), testFrame(2)]), 2, 'writes to a gone device are consumed');
        assert.equal(port.stats.writeDropsLinkDown, 2);
      } finally {
        port?.close();
        await holder.kill();
      }
    });

    test('a veth end: both ways, and frames it writes are never read back (no echo)', async () => {
      const [name, peer] = vethPair();
      const { port, wire } = ns.run(() => ({
        port: openAttachedDeviceSync({ name, batching }),
        wire: new PacketSocket(peer),
      }));
      try {
        assert.equal(port.kind, 'veth');
        const seen = collect(port);
        // 32 frames out of the port first, then one frame in from the wire.
        assert.equal(
          writeFrames(
            port,
            range(1, 32).map((t) => testFrame(t)),
          ),
          32,
        );
        const rx = new PacketBatch(64, 2048);
        const atWire: number[] = [];
        await waitFor(
          'the 32 frames at the peer',
          () => {
            atWire.push(...packetsOf(rx, wire.recv(rx, 0)).map((f) => f.readUInt32BE(14)));
            return atWire.length >= 32;
          },
          5000,
          2,
        );
        assert.deepEqual(atWire, range(1, 32));
        const out = new PacketBatch(1, 2048);
        place(out, 0, testFrame(99), 0);
        assert.equal(wire.send(out, [0], 1), 1);
        await waitFor('the peer frame', () => seen.frames.length >= 1, 5000, 2);
        // Let anything else that might come (an echo) arrive before judging.
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(seen.tags(), [99]);
      } finally {
        port.close();
        wire.close();
        ns.ip('link', 'del', name);
      }
    });

    test('a macvlan in bridge mode on a veth parent: frames both ways with a sibling macvlan', async () => {
      const [parent] = vethPair();
      const a = `${parent}a`;
      const b = `${parent}b`;
      ns.ip('link', 'add', a, 'link', parent, 'type', 'macvlan', 'mode', 'bridge');
      ns.ip('link', 'add', b, 'link', parent, 'type', 'macvlan', 'mode', 'bridge');
      ns.ip('link', 'set', a, 'address', '02:00:00:00:00:02');
      ns.ip('link', 'set', b, 'address', '02:00:00:00:00:01');
      ns.ip('link', 'set', a, 'up');
      ns.ip('link', 'set', b, 'up');
      const { port, wire } = ns.run(() => ({
        port: openAttachedDeviceSync({ name: a, batching }),
        wire: new PacketSocket(b),
      }));
      try {
        assert.equal(port.kind, 'macvlan');
        const seen = collect(port);
        // testFrame goes from 02::01 (b) to 02::02 (a): the sibling sends to the port's MAC.
        const out = new PacketBatch(4, 2048);
        for (let i = 0; i < 4; i++) place(out, i, testFrame(10 + i), 0);
        assert.equal(wire.send(out, [0, 1, 2, 3], 4), 4);
        await waitFor('the sibling frames at the port', () => seen.frames.length >= 4, 5000, 2);
        assert.deepEqual(seen.tags(), range(10, 4));
        // The port answers to b's MAC; the macvlan bridge delivers it to b.
        const answers = range(20, 4).map((t) => {
          const f = testFrame(t);
          f.copy(f, 0, 6, 12);
          Buffer.from([0x02, 0, 0, 0, 0, 0x02]).copy(f, 6);
          return f;
        });
        assert.equal(writeFrames(port, answers), 4);
        const rx = new PacketBatch(16, 2048);
        const atSibling: number[] = [];
        await waitFor(
          'the answers at the sibling',
          () => {
            atSibling.push(
              ...packetsOf(rx, wire.recv(rx, 0))
                .filter(isTestFrame)
                .map((f) => f.readUInt32BE(14)),
            );
            return atSibling.length >= 4;
          },
          5000,
          2,
        );
        assert.deepEqual(atSibling, range(20, 4));
      } finally {
        port.close();
        wire.close();
        ns.ip('link', 'del', parent);
      }
    });

    test('802.1Q and 802.1ad tags the kernel strips come back in place, PCP and VID intact, at any headroom', async () => {
      const [name, peer] = vethPair();
      const { port, wire } = ns.run(() => ({
        port: openAttachedDeviceSync({ name, batching }),
        wire: new PacketSocket(peer),
      }));
      try {
        const tag = (tpid: number, tci: number): Buffer => Buffer.from([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff]);
        const tagged = (t: number, ...tags: Buffer[]): Buffer => {
          const f = testFrame(t, 100);
          return Buffer.concat([f.subarray(0, 12), ...tags, f.subarray(12)]);
        };
        const sent = [
          tagged(1, tag(0x8100, (5 << 13) | 42)),
          tagged(2, tag(0x88a8, 100), tag(0x8100, 7)), // QinQ: the outer tag is stripped, the inner stays
          tagged(3, tag(0x8100, 0)), // a priority tag: VID 0
          testFrame(4, 100),
        ];
        for (const headroom of [64, 0]) {
          const out = new PacketBatch(4, 2048);
          sent.forEach((f, i) => place(out, i, f, 0));
          const before = port.stats.vlanTagsRestored;
          assert.equal(wire.send(out, [0, 1, 2, 3], 4), 4);
          const batch = new PacketBatch(8, 2048);
          const got: Buffer[] = [];
          const offsets: number[] = [];
          await waitFor(
            'the four frames',
            () => {
              const n = port.read(batch, headroom);
              for (let i = 0; i < n; i++) offsets.push(batch.offsets[i]);
              got.push(...packetsOf(batch, n));
              return got.length >= 4;
            },
            5000,
            2,
          );
          assert.deepEqual(got, sent, `frames exactly as sent (headroom ${headroom})`);
          // With headroom the MACs moved back into it; without, the payload moved on.
          assert.deepEqual(offsets, headroom === 64 ? [60, 60, 60, 64] : [0, 0, 0, 0]);
          assert.equal(port.stats.vlanTagsRestored - before, 3);
        }
      } finally {
        port.close();
        wire.close();
        ns.ip('link', 'del', name);
      }
    });

    test('a device deleted under an open port: reads stop with DVS_DEVICE_GONE, writes are counted, close gives back the fd', async () => {
      const fdsBefore = openFds();
      const [name] = vethPair();
      const port = ns.run(() => openAttachedDeviceSync({ name, batching }));
      const seen = collect(port);
      assert.equal(port.gone, false);
      ns.ip('link', 'del', name);
      await waitFor('the readable handler to see the device gone', () => seen.error() !== null, 5000, 2);
      assert.ok(isNetdevError(seen.error(), 'DVS_DEVICE_GONE'));
      assert.equal(port.gone, true);
      const batch = new PacketBatch(2, 256);
      assert.throws(
        () => port.read(batch, 0),
        (err) => isNetdevError(err, 'DVS_DEVICE_GONE'),
      );
      assert.equal(writeFrames(port, [testFrame(1), testFrame(2), testFrame(3)]), 3);
      assert.equal(port.stats.writeDropsLinkDown, 3);
      assert.equal(port.mtu, 1500, 'the last MTU known');
      port.close();
      port.close();
      assert.equal(openFds(), fdsBefore);
    });
  });
}

describe('attaching: refusals with stable codes, nothing changed', () => {
  test('no such device here (also a device that lives in another namespace): DVS_NO_DEVICE names it', async () => {
    const name = uniqueName();
    await assert.rejects(
      ns.run(() => openAttachedDevice({ name })),
      (err) =>
        isNetdevError(err, 'DVS_NO_DEVICE') && err.message.includes(`no device ${name} in this network namespace`),
    );
    // The device exists in our namespace, but not in the one the thread is in.
    const [inNamespace] = vethPair();
    assert.throws(
      () => openAttachedDeviceSync({ name: inNamespace }),
      (err) => isNetdevError(err, 'DVS_NO_DEVICE') && err.message.includes(inNamespace),
    );
    ns.ip('link', 'del', inNamespace);
  });

  test('DVS_PERMISSION without CAP_NET_RAW (an unprivileged process in the namespace)', () => {
    const [name] = vethPair();
    const script = `import('${INDEX_JS}').then(async (m) => {
      try { (await m.openAttachedDevice({ name: '${name}' })).close(); console.log('attached'); }
      catch (err) { console.log(err.code); }
    })`;
    const unprivileged = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const argv = ['netns', 'exec', ns.name, ...unprivileged, process.execPath, '--input-type=module', '-e', script];
    assert.equal(execFileSync('ip', argv, { encoding: 'utf8' }).trim(), 'DVS_PERMISSION');
    ns.ip('link', 'del', name);
  });

  test('the loopback and a non-Ethernet device (a TUN) are DVS_DEVICE_UNSUITABLE', () => {
    assert.throws(
      () => ns.run(() => openAttachedDeviceSync({ name: 'lo' })),
      (err) => isNetdevError(err, 'DVS_DEVICE_UNSUITABLE') && /loopback/.test(err.message),
    );
    const tun = uniqueName();
    ns.ip('tuntap', 'add', 'dev', tun, 'mode', 'tun');
    try {
      assert.throws(
        () => ns.run(() => openAttachedDeviceSync({ name: tun })),
        (err) => isNetdevError(err, 'DVS_DEVICE_UNSUITABLE') && /not an Ethernet device/.test(err.message),
      );
    } finally {
      ns.ip('link', 'del', tun);
    }
  });

  test('names no device can have, bad options, an aborted signal', async () => {
    assert.throws(
      () => openAttachedDeviceSync({ name: 'dvn-0123456789abc' }),
      (err) => isNetdevError(err, 'DVS_NAME_TOO_LONG'),
    );
    assert.throws(
      () => openAttachedDeviceSync({ name: 'a/b' }),
      (err) => isNetdevError(err, 'DVS_NAME_INVALID'),
    );
    assert.throws(() => openAttachedDeviceSync({ name: 'lo', batching: 'xdp' as AttachBatching }), /batching/);
    assert.throws(() => openAttachedDeviceSync({ name: 'lo', ringBytes: 10 }), /ringBytes/);
    await assert.rejects(openAttachedDevice({ name: 'lo', signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('the device is left as it was: admin state untouched, promiscuity given back on close', () => {
    const [name] = vethPair();
    ns.ip('link', 'set', name, 'down');
    const promiscuity = (): string => /promiscuity (\d+)/.exec(ns.ip('-d', 'link', 'show', name))?.[1] ?? '?';
    assert.equal(promiscuity(), '0');
    const port = ns.run(() => openAttachedDeviceSync({ name }));
    assert.equal(promiscuity(), '1');
    assert.doesNotMatch(ns.ip('link', 'show', name), /<[^>]*\bUP\b/);
    port.close();
    assert.equal(promiscuity(), '0');
    const upped = ns.run(() => openAttachedDeviceSync({ name, up: true }));
    assert.match(ns.ip('link', 'show', name), /<[^>]*\bUP\b/);
    upped.close();
    ns.ip('link', 'del', name);
  });
});
