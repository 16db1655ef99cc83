import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '@dvs/wire';
import { PacketBatch, openTunnelSocketSync, type NativeTunnelSocket } from '../src/index.js';
import { LabNamespace, vethAcross } from '../src/testing/index.js';
import { waitFor } from '@dvs/test-support';

// The native socket coalesces runs of listed slots to one destination with one
// length into UDP GSO messages. Whatever it coalesces, the receivers must get
// exactly the datagrams listed: every one, in order per destination, byte for
// byte. Proven on loopback (IPv4, IPv6) and across a veth between two
// namespaces of our own (IPv4, IPv6), where the kernel segments for the wire.

interface Destination {
  address: string;
  receiver: NativeTunnelSocket;
}

/** One datagram's bytes: its sequence number, its destination index, then a pattern from both. */
function fill(batch: PacketBatch, slot: number, seq: number, dest: number, length: number): void {
  const start = slot * batch.slotSize;
  batch.offsets[slot] = 0;
  batch.lengths[slot] = length;
  const bytes = batch.buffer.subarray(start, start + length);
  for (let i = 0; i < length; i++) bytes[i] = (seq * 7 + dest * 13 + i) & 255;
  bytes[0] = seq;
  bytes[1] = dest;
}

function address(batch: PacketBatch, slot: number, to: string, port: number): void {
  const parsed = parseIpAddress(to);
  assert.ok(parsed !== null);
  if (parsed.family === 4) batch.setIpv4Destination(slot, parsed.ipv4, port);
  else batch.setIpv6Destination(slot, parsed.ipv6, port);
}

interface Planned {
  dest: number;
  length: number;
}

/**
 * Sends `plan` (one datagram per entry, listed in that order, from slots
 * listed back to front so listing order, not slot order, is what counts) and
 * checks every destination got its datagrams complete and in order.
 */
async function sendAndCheck(sender: NativeTunnelSocket, dests: Destination[], plan: Planned[]): Promise<void> {
  const batch = new PacketBatch(plan.length, 2048);
  const slots = new Uint32Array(plan.length);
  const expected: Uint8Array[][] = dests.map(() => []);
  plan.forEach(({ dest, length }, seq) => {
    const slot = plan.length - 1 - seq;
    slots[seq] = slot;
    fill(batch, slot, seq, dest, length);
    address(batch, slot, dests[dest].address, dests[dest].receiver.localPort);
    expected[dest].push(Uint8Array.from(batch.buffer.subarray(slot * batch.slotSize, slot * batch.slotSize + length)));
  });
  let sent = 0;
  while (sent < plan.length) {
    const taken = sender.send(batch, slots.subarray(sent), plan.length - sent);
    sent += taken;
    if (taken === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(sender.stats.sendDropsInvalid, 0);
  const got: Uint8Array[][] = dests.map(() => []);
  const rx = new PacketBatch(256, 2048);
  await waitFor(
    'every datagram',
    () => {
      dests.forEach(({ receiver }, d) => {
        const n = receiver.recv(rx, 0);
        for (let i = 0; i < n; i++) {
          const start = i * rx.slotSize + rx.offsets[i];
          got[d].push(Uint8Array.from(rx.buffer.subarray(start, start + rx.lengths[i])));
        }
      });
      return got.every((g, d) => g.length >= expected[d].length);
    },
    5000,
    2,
  );
  dests.forEach((_, d) => {
    assert.equal(got[d].length, expected[d].length, `destination ${d}: datagram count`);
    got[d].forEach((bytes, k) => assert.deepEqual(bytes, expected[d][k], `destination ${d}, datagram ${k}`));
  });
}

/** 64 datagrams of 1400 B to one destination. */
const EQUAL: Planned[] = Array.from({ length: 64 }, () => ({ dest: 0, length: 1400 }));

/**
 * Two destinations interleaved in runs of 1..6, sizes 1000 (dest 0) and 600
 * (dest 1), with shorter and longer odd ones that end or break a run.
 */
const MIXED: Planned[] = (() => {
  const plan: Planned[] = [];
  const runs = [3, 1, 6, 2, 5, 4, 1, 6, 3, 2, 5, 6, 4, 1, 3, 5, 2, 6];
  runs.forEach((run, r) => {
    const dest = r % 2;
    for (let k = 0; k < run; k++) {
      const seq = plan.length;
      let length = dest === 0 ? 1000 : 600;
      if (seq % 7 === 3) length = 300; // shorter: ends the run
      if (seq % 11 === 5) length = 1200; // longer: starts a new run
      plan.push({ dest, length });
    }
  });
  return plan;
})();

function openReceivers(open: (address: string) => NativeTunnelSocket, addresses: string[]): Destination[] {
  return addresses.map((address) => ({ address, receiver: open(address) }));
}

function closeAll(sockets: NativeTunnelSocket[]): void {
  for (const s of sockets) s.close();
}

for (const family of [4, 6] as const) {
  const local = family === 4 ? '127.0.0.1' : '::1';
  const any = family === 4 ? '0.0.0.0' : '::';

  test(`native send (GSO) on loopback IPv${family}: 64 equal datagrams to one destination, then a mixed batch`, async () => {
    const open = (address: string): NativeTunnelSocket =>
      openTunnelSocketSync({ address, port: 0, recvBufferSize: 4 << 20 });
    const dests = openReceivers(open, [local, local]);
    const sender = openTunnelSocketSync({ address: any, port: 0 });
    try {
      await sendAndCheck(sender, dests.slice(0, 1), EQUAL);
      assert.equal(sender.stats.sendSegmentation, 'gso', 'loopback takes UDP_SEGMENT');
      const afterEqual = sender.stats.sendGsoMessages ?? 0;
      assert.ok(afterEqual >= 1 && afterEqual < 64, `64 datagrams went as ${afterEqual} GSO message(s)`);
      await sendAndCheck(sender, dests, MIXED);
      assert.ok((sender.stats.sendGsoMessages ?? 0) > afterEqual, 'the mixed batch coalesced its runs');
      assert.equal(sender.stats.packetsSent, EQUAL.length + MIXED.length);
    } finally {
      closeAll([sender, ...dests.map((d) => d.receiver)]);
    }
  });
}

// Two namespaces joined by a veth: 198.51.100.1 / 2001:db8::1 send to .2 / ::2.
const nsA = new LabNamespace(`dvg-gso-a-${process.pid}`);
const nsB = new LabNamespace(`dvg-gso-b-${process.pid}`);
after(() => {
  nsA.dispose();
  nsB.dispose();
});
vethAcross(nsA, nsB, { ipv6: true });

for (const family of [4, 6] as const) {
  const to = family === 4 ? '198.51.100.2' : '2001:db8::2';
  const from = family === 4 ? '198.51.100.1' : '2001:db8::1';

  test(`native send (GSO) across a veth between namespaces, IPv${family}: equal and mixed batches arrive exact`, async () => {
    const dests = openReceivers(
      (address) => nsB.run(() => openTunnelSocketSync({ address, port: 0, recvBufferSize: 4 << 20 })),
      [to, to],
    );
    const sender = nsA.run(() => openTunnelSocketSync({ address: from, port: 0 }));
    try {
      await sendAndCheck(sender, dests.slice(0, 1), EQUAL);
      await sendAndCheck(sender, dests, MIXED);
      assert.equal(sender.stats.sendSegmentation, 'gso', 'veth takes UDP_SEGMENT');
      assert.ok((sender.stats.sendGsoMessages ?? 0) >= 2);
    } finally {
      closeAll([sender, ...dests.map((d) => d.receiver)]);
    }
  });
}
