import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6Address, parseIpv4Address, parseIpv6Address } from '@dvs/wire';
import { PacketBatch, isNetdevError } from '../../src/index.js';
import type { TunnelSocket } from '../../src/index.js';
import { packetsOf, place } from './frames.js';
import { waitFor } from '@dvs/test-support';
import { loopTurns } from './wait.js';

/** How the TunnelSocket compliance suite opens sockets of one implementation. */
export interface TunnelSocketFactory {
  open(options: { address: string; port: number }): Promise<TunnelSocket>;
  /**
   * Optional: a sender whose send() runs short — EAGAIN, with nothing queued —
   * once it has taken a few packets, and a receiver bound on 127.0.0.1 that
   * it can reach. The fakes and the dgram socket count packets; the native
   * socket meets a real kernel EAGAIN (socket-compliance.test.ts).
   * `release` lets the sender take packets again (a kernel queue drains by
   * itself); `close` closes both and whatever set them up.
   */
  openSendLimited?(): Promise<{ sender: TunnelSocket; receiver: TunnelSocket; release(): void; close(): void }>;
}

const V4 = '127.0.0.1';
const V6 = '::1';

function payload(tag: number, length = 48): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt32BE(tag, 0);
  for (let i = 4; i < length; i++) b[i] = (tag * 7 + i) & 0xff;
  return b;
}

function toV4(batch: PacketBatch, slot: number, port: number): void {
  batch.setIpv4Destination(slot, parseIpv4Address(V4) as number, port);
}

function toV6(batch: PacketBatch, slot: number, port: number): void {
  batch.setIpv6Destination(slot, parseIpv6Address(V6) as Uint8Array, port);
}

interface Received {
  data: Buffer;
  family: number;
  address: string;
  port: number;
}

/** Receives until `count` datagrams arrived (with any batch shape). */
async function receive(socket: TunnelSocket, count: number, batch = new PacketBatch(16, 2048)): Promise<Received[]> {
  const got: Received[] = [];
  await waitFor(
    `${count} datagrams`,
    () => {
      const n = socket.recv(batch, 24);
      for (let i = 0; i < n; i++) {
        got.push({
          data: packetsOf(batch, n)[i],
          family: batch.family[i],
          address:
            batch.family[i] === 4
              ? `${batch.ipv4[i] >>> 24}.${(batch.ipv4[i] >>> 16) & 255}.${(batch.ipv4[i] >>> 8) & 255}.${batch.ipv4[i] & 255}`
              : formatIpv6Address(batch.ipv6, i * 16),
          port: batch.port[i],
        });
      }
      return got.length >= count;
    },
    5000,
    2,
  );
  return got;
}

/** Registers the TunnelSocket contract tests (types.ts) for one implementation. */
export function tunnelSocketCompliance(label: string, factory: TunnelSocketFactory): void {
  describe(`TunnelSocket compliance: ${label}`, () => {
    const open: TunnelSocket[] = [];
    const bind = async (address: string, port = 0): Promise<TunnelSocket> => {
      const s = await factory.open({ address, port });
      open.push(s);
      return s;
    };
    after(() => {
      for (const s of open) s.close();
    });

    test('port 0 binds an ephemeral port; localAddress is what was asked', async () => {
      const s = await bind(V4);
      assert.ok(s.localPort > 0 && s.localPort < 65536);
      assert.equal(s.localAddress, V4);
    });

    test('one send() reaches many destinations, each with the source address and port', async () => {
      const tx = await bind(V4);
      const rx = [await bind(V4), await bind(V4), await bind(V4)];
      const batch = new PacketBatch(8, 512);
      for (let i = 0; i < 6; i++) {
        place(batch, i, payload(i, 40 + i * 50), 64 - i);
        toV4(batch, i, rx[i % 3].localPort);
      }
      assert.equal(tx.send(batch, [0, 1, 2, 3, 4, 5], 6), 6);
      for (let r = 0; r < 3; r++) {
        const got = await receive(rx[r], 2);
        assert.deepEqual(
          got.map((g) => g.data),
          [payload(r, 40 + r * 50), payload(r + 3, 40 + (r + 3) * 50)],
        );
        for (const g of got) assert.deepEqual([g.family, g.address, g.port], [4, V4, tx.localPort]);
      }
    });

    test('IPv6: datagrams carry 16-byte source addresses', async () => {
      const a = await bind(V6);
      const b = await bind(V6);
      const batch = new PacketBatch(2, 256);
      place(batch, 0, payload(61), 0);
      toV6(batch, 0, b.localPort);
      assert.equal(a.send(batch, [0], 1), 1);
      const [got] = await receive(b, 1);
      assert.deepEqual([got.family, got.address, got.port], [6, V6, a.localPort]);
      assert.deepEqual(got.data, payload(61));
    });

    test("a socket on '::' takes IPv4 too, reports it as family 4, and sends to family 4", async () => {
      const dual = await bind('::');
      const v4 = await bind(V4);
      const batch = new PacketBatch(2, 256);
      place(batch, 0, payload(41), 8);
      toV4(batch, 0, dual.localPort);
      assert.equal(v4.send(batch, [0], 1), 1);
      const [got] = await receive(dual, 1);
      assert.deepEqual([got.family, got.address, got.port], [4, V4, v4.localPort]);
      place(batch, 1, payload(42), 8);
      toV4(batch, 1, v4.localPort);
      assert.equal(dual.send(batch, [1], 1), 1);
      const [back] = await receive(v4, 1);
      assert.equal(back.family, 4);
      assert.deepEqual(back.data, payload(42));
    });

    test('slots without a usable destination are consumed and counted; the rest go out', async () => {
      const tx = await bind(V4);
      const rx = await bind(V4);
      const batch = new PacketBatch(4, 256);
      for (let i = 0; i < 4; i++) place(batch, i, payload(50 + i), 0);
      toV4(batch, 0, rx.localPort);
      batch.family[1] = 0; // no destination
      toV6(batch, 2, rx.localPort); // IPv6 from an IPv4 socket
      toV4(batch, 3, rx.localPort);
      assert.equal(tx.send(batch, [0, 1, 2, 3], 4), 4);
      const got = await receive(rx, 2);
      assert.deepEqual(
        got.map((g) => g.data.readUInt32BE(0)),
        [50, 53],
      );
      assert.equal(tx.stats?.sendDropsInvalid, 2);
      assert.equal(tx.stats?.packetsSent, 2);
    });

    test('recv() takes at most capacity datagrams per call and returns 0 when none', async () => {
      const tx = await bind(V4);
      const rx = await bind(V4);
      const batch = new PacketBatch(16, 256);
      for (let i = 0; i < 13; i++) {
        place(batch, i, payload(200 + i), 0);
        toV4(batch, i, rx.localPort);
      }
      assert.equal(
        tx.send(
          batch,
          Uint32Array.from({ length: 13 }, (_, i) => i),
          13,
        ),
        13,
      );
      const small = new PacketBatch(8, 256);
      const counts: number[] = [];
      const tags: number[] = [];
      await waitFor(
        '13 datagrams',
        () => {
          const n = rx.recv(small, 0);
          if (n > 0) counts.push(n);
          for (const p of packetsOf(small, n)) tags.push(p.readUInt32BE(0));
          return tags.length >= 13;
        },
        5000,
        2,
      );
      assert.ok(counts.every((c) => c <= 8));
      assert.deepEqual(
        tags,
        Array.from({ length: 13 }, (_, i) => 200 + i),
      );
      assert.equal(rx.recv(small, 0), 0);
    });

    test('a datagram longer than slotSize - headroom is dropped and counted', async () => {
      const tx = await bind(V4);
      const rx = await bind(V4);
      const batch = new PacketBatch(2, 512);
      place(batch, 0, payload(1, 300), 0);
      place(batch, 1, payload(2, 50), 0);
      toV4(batch, 0, rx.localPort);
      toV4(batch, 1, rx.localPort);
      assert.equal(tx.send(batch, [0, 1], 2), 2);
      const small = new PacketBatch(4, 128);
      const tags: number[] = [];
      await waitFor(
        'the small datagram',
        () => {
          for (const p of packetsOf(small, rx.recv(small, 28))) tags.push(p.readUInt32BE(0));
          return tags.length >= 1;
        },
        5000,
        2,
      );
      assert.deepEqual(tags, [2]);
      assert.equal(rx.stats?.recvDropsTooBig, 1);
    });

    test('readable is level-triggered; onReadable(null) stops it', async () => {
      const tx = await bind(V4);
      const rx = await bind(V4);
      let calls = 0;
      rx.onReadable(() => calls++);
      const batch = new PacketBatch(1, 128);
      place(batch, 0, payload(9), 0);
      toV4(batch, 0, rx.localPort);
      tx.send(batch, [0], 1);
      await waitFor('repeated readable calls', () => calls >= 3, 5000, 2);
      rx.onReadable(null);
      const stoppedAt = calls;
      await loopTurns();
      assert.equal(calls, stoppedAt);
      assert.equal(rx.recv(batch, 0), 1);
    });

    test('an idle watched socket never calls its handler (no busy spin)', async () => {
      const s = await bind(V4);
      let calls = 0;
      s.onReadable(() => calls++);
      await loopTurns(50);
      assert.equal(calls, 0);
      s.onReadable(null);
    });

    test('onWritable fires once', async () => {
      const s = await bind(V4);
      let calls = 0;
      s.onWritable?.(() => calls++);
      await waitFor('writable', () => calls === 1, 5000, 2);
      await loopTurns();
      assert.equal(calls, 1);
    });

    test('binding a bound address:port is DVS_ADDRESS_IN_USE; after close() it binds again', async () => {
      const s = await factory.open({ address: V4, port: 0 });
      const port = s.localPort;
      await assert.rejects(factory.open({ address: V4, port }), (err) => isNetdevError(err, 'DVS_ADDRESS_IN_USE'));
      s.close();
      await loopTurns(2);
      const again = await bind(V4, port);
      assert.equal(again.localPort, port);
    });

    test('a bad address is DVS_ADDRESS_INVALID', async () => {
      await assert.rejects(factory.open({ address: 'vtep.example', port: 0 }), (err) =>
        isNetdevError(err, 'DVS_ADDRESS_INVALID'),
      );
      await assert.rejects(factory.open({ address: V4, port: 70000 }), (err) =>
        isNetdevError(err, 'DVS_ADDRESS_INVALID'),
      );
    });

    test('bad arguments are RangeErrors; use after close() is DVS_CLOSED', async () => {
      const s = await factory.open({ address: V4, port: 0 });
      const batch = new PacketBatch(2, 128);
      assert.throws(() => s.send(batch, [5], 1), RangeError);
      assert.throws(() => s.recv(batch, 128), RangeError);
      s.close();
      s.close();
      assert.throws(
        () => s.recv(batch, 0),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      assert.throws(
        () => s.send(batch, [0], 1),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      assert.throws(
        () => s.onReadable(() => {}),
        (err) => isNetdevError(err, 'DVS_CLOSED'),
      );
      s.onReadable(null);
      s.onWritable?.(null);
    });

    if (factory.openSendLimited !== undefined) {
      const openLimited = factory.openSendLimited.bind(factory);
      test('EAGAIN: send() returns the count taken and queues nothing; writable fires when there is room', async () => {
        const { sender: tx, receiver: rx, release, close } = await openLimited();
        try {
          const batch = new PacketBatch(10, 2048);
          // Lengths differ, so no implementation coalesces them (UDP GSO takes runs of one length).
          for (let i = 0; i < 10; i++) {
            place(batch, i, payload(300 + i, 1000 + i), 0);
            toV4(batch, i, rx.localPort);
          }
          const slots = Array.from({ length: 10 }, (_, i) => i);
          const first = tx.send(batch, slots, 10);
          assert.ok(first >= 1 && first < 10, `a short send: ${first} of 10 taken`);
          // Resume from the first slot not taken, each time the socket says writable.
          let next = first;
          release();
          while (next < 10) {
            let writable = false;
            tx.onWritable?.(() => (writable = true));
            await waitFor('writable after EAGAIN', () => writable, 5000, 2);
            const taken = tx.send(batch, slots.slice(next), 10 - next);
            assert.ok(taken >= 1, 'writable means at least one packet is taken');
            next += taken;
          }
          const got = await receive(rx, 10);
          assert.deepEqual(
            got.map((g) => g.data.readUInt32BE(0)),
            slots.map((i) => 300 + i),
          );
          await loopTurns();
          assert.equal(rx.recv(batch, 0), 0, 'nothing beyond what send() reported as taken');
        } finally {
          close();
        }
      });
    }
  });
}
