import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@dvs/test-support';
import { MAX_SOURCE_PORTS, PacketBatch, checkSourcePorts, isNetdevError, openTunnelSocketSync } from '../src/index.js';
import type { NativeTunnelSocket } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

// The source-port pool: a slot naming a pool port leaves from that port (the
// receiver sees it as the datagram's source port), 0 leaves from the socket's
// own port, and a port outside the pool is dropped and counted. Runs in a
// namespace of our own, so the fixed range collides with nobody.

let ns: LabNamespace;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}sp`);
});
after(() => ns.dispose());

const LOOPBACK = 0x7f000001;

async function receiveSourcePorts(receiver: NativeTunnelSocket, expected: number): Promise<number[]> {
  const rx = new PacketBatch(64, 2048);
  const ports: number[] = [];
  await waitFor(
    `${expected} datagrams`,
    () => {
      const n = receiver.recv(rx, 0);
      for (let i = 0; i < n; i++) ports[rx.buffer[i * rx.slotSize + rx.offsets[i]]] = rx.port[i];
      return ports.filter((p) => p !== undefined).length >= expected;
    },
    5000,
    2,
  );
  return ports;
}

test('a slot leaves from the pool port it names; 0 is the socket own port; a port outside the pool is dropped', async () => {
  const { sender, receiver } = ns.run(() => ({
    sender: openTunnelSocketSync({ address: '127.0.0.1', port: 4789, sourcePorts: { min: 50000, max: 50003 } }),
    receiver: openTunnelSocketSync({ address: '127.0.0.1', port: 4790 }),
  }));
  try {
    assert.deepEqual(sender.sourcePorts, [50000, 50001, 50002, 50003]);
    const batch = new PacketBatch(8, 2048);
    // Datagram k carries k in its first byte; runs of one port (GSO may
    // coalesce them) and alternations (one sendmmsg per socket change).
    const plan = [50000, 50000, 50000, 0, 50003, 50001, 50003, 49999];
    plan.forEach((port, k) => {
      batch.offsets[k] = 0;
      batch.lengths[k] = 1000;
      batch.buffer.fill(k, k * batch.slotSize, k * batch.slotSize + 1000);
      batch.setIpv4Destination(k, LOOPBACK, 4790);
      batch.sourcePort[k] = port;
    });
    const slots = Uint32Array.from(plan.keys());
    assert.equal(sender.send(batch, slots, plan.length), plan.length);
    assert.equal(sender.stats.sendDropsInvalid, 1, 'the port outside the pool is dropped and counted');
    const seen = await receiveSourcePorts(receiver, plan.length - 1);
    assert.deepEqual(seen, [50000, 50000, 50000, 4789, 50003, 50001, 50003]);
  } finally {
    sender.close();
    receiver.close();
  }
});

test('a pool of kernel-picked ports: distinct ports, all usable; closing the socket closes the pool', async () => {
  const { sender, receiver } = ns.run(() => ({
    sender: openTunnelSocketSync({ address: '127.0.0.1', port: 0, sourcePorts: { count: 8 } }),
    receiver: openTunnelSocketSync({ address: '127.0.0.1', port: 4791 }),
  }));
  const pool = [...sender.sourcePorts];
  try {
    assert.equal(new Set(pool).size, 8);
    const batch = new PacketBatch(8, 256);
    pool.forEach((port, k) => {
      batch.offsets[k] = 0;
      batch.lengths[k] = 100;
      batch.buffer[k * batch.slotSize] = k;
      batch.setIpv4Destination(k, LOOPBACK, 4791);
      batch.sourcePort[k] = port;
    });
    assert.equal(sender.send(batch, Uint32Array.from(pool.keys()), 8), 8);
    assert.deepEqual(await receiveSourcePorts(receiver, 8), pool);
  } finally {
    sender.close();
    receiver.close();
  }
  // The pool's ports are free again: a fixed-range pool can bind one of them.
  const again = ns.run(() => openTunnelSocketSync({ address: '127.0.0.1', port: pool[0] }));
  again.close();
});

test('bad pools are refused with DVS_ADDRESS_INVALID naming sourcePorts, and nothing stays open', () => {
  for (const bad of [
    { min: 0, max: 10 },
    { min: 60000, max: 59999 },
    { min: 1000, max: 1000 + MAX_SOURCE_PORTS },
    { count: 0 },
  ]) {
    assert.throws(
      () => checkSourcePorts(bad),
      (err) => isNetdevError(err, 'DVS_ADDRESS_INVALID') && /sourcePorts/.test(err.message),
    );
    assert.throws(() => ns.run(() => openTunnelSocketSync({ address: '127.0.0.1', port: 4792, sourcePorts: bad })));
  }
  // The main socket was closed with the refused pool: its port binds again.
  ns.run(() => openTunnelSocketSync({ address: '127.0.0.1', port: 4792 })).close();
});
