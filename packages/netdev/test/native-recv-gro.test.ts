import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '@dvs/wire';
import {
  PacketBatch,
  SUPER_FRAME_SLOT_BYTES,
  SuperDatagramViews,
  openTunnelSocketSync,
  type NativeTunnelSocket,
} from '../src/index.js';
import { LabNamespace, vethAcross } from '../src/testing/index.js';
import { waitFor } from '@dvs/test-support';

// UDP_GRO on receive: a sender using UDP GSO (the native socket glues runs to
// one destination with one length into UDP_SEGMENT messages) hands the
// kernel super-datagrams; a receiver with receiveOffload gets them whole
// (segmentSize set) and SuperDatagramViews shows their datagrams as slots of
// a batch over the same memory. Every datagram must come out, byte for byte,
// in order, and be counted. Proven on loopback (IPv4, IPv6) and across a
// veth between two namespaces of our own.

const HEADROOM = 64;

interface Planned {
  length: number;
}

/** Runs of equal datagrams (GSO'd by the sender), odd lengths between, and a run of tiny ones (copied, not viewed). */
const PLAN: Planned[] = [
  ...Array.from({ length: 64 }, () => ({ length: 1472 })),
  { length: 300 },
  ...Array.from({ length: 40 }, (_, k) => ({ length: k === 39 ? 700 : 1000 })),
  ...Array.from({ length: 20 }, () => ({ length: 50 })),
  { length: 1200 },
  ...Array.from({ length: 30 }, () => ({ length: 1472 })),
];

function pattern(seq: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seq * 7 + i * 3) & 255;
  bytes[0] = seq & 255;
  bytes[1] = seq >> 8;
  return bytes;
}

async function send(sender: NativeTunnelSocket, to: string, port: number, plan: Planned[]): Promise<Uint8Array[]> {
  const parsed = parseIpAddress(to);
  assert.ok(parsed !== null);
  const batch = new PacketBatch(plan.length, 2048);
  const slots = new Uint32Array(plan.length);
  const sent: Uint8Array[] = [];
  plan.forEach(({ length }, seq) => {
    const bytes = pattern(seq, length);
    batch.buffer.set(bytes, seq * batch.slotSize);
    batch.offsets[seq] = 0;
    batch.lengths[seq] = length;
    if (parsed.family === 4) batch.setIpv4Destination(seq, parsed.ipv4, port);
    else batch.setIpv6Destination(seq, parsed.ipv6, port);
    slots[seq] = seq;
    sent.push(bytes);
  });
  let done = 0;
  while (done < plan.length) {
    const taken = sender.send(batch, slots.subarray(done), plan.length - done);
    done += taken;
    if (taken === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(sender.stats.sendDropsInvalid, 0);
  return sent;
}

/** Receives until `expected` datagrams came out, splitting super-datagrams through views (copying only tiny ones). */
async function receiveAll(
  receiver: NativeTunnelSocket,
  expected: number,
): Promise<{ got: Uint8Array[]; viewed: number; copied: number }> {
  const views = new SuperDatagramViews(16, HEADROOM + SUPER_FRAME_SLOT_BYTES);
  const rx = views.batch;
  const copy = new PacketBatch(1, 2048);
  const got: Uint8Array[] = [];
  let viewed = 0;
  let copied = 0;
  await waitFor(
    'every datagram',
    () => {
      const n = receiver.recv(rx, HEADROOM);
      for (let i = 0; i < n; i++) {
        assert.equal(rx.family[i] !== 0, true);
        if (rx.segmentSize[i] === 0) {
          got.push(Uint8Array.from(rx.buffer.subarray(rx.start(i), rx.start(i) + rx.lengths[i])));
          continue;
        }
        const view = views.view(i);
        const count = views.datagramsIn(i);
        if (view === null) {
          for (let j = 0; j < count; j++) {
            assert.ok(views.copyDatagram(i, j, copy, 0, 0));
            got.push(Uint8Array.from(copy.buffer.subarray(0, copy.lengths[0])));
            copied++;
          }
          continue;
        }
        // A view: the very memory the kernel wrote, no copy.
        assert.equal(view.buffer.buffer, rx.buffer.buffer);
        for (let j = 0; j < count; j++) {
          assert.equal(view.family[j], rx.family[i]);
          assert.equal(view.port[j], rx.port[i]);
          got.push(Uint8Array.from(view.buffer.subarray(view.start(j), view.start(j) + view.lengths[j])));
          viewed++;
        }
      }
      return got.length >= expected;
    },
    5000,
    2,
  );
  return { got, viewed, copied };
}

async function check(sender: NativeTunnelSocket, receiver: NativeTunnelSocket, to: string): Promise<void> {
  const sent = await send(sender, to, receiver.localPort, PLAN);
  const { got, viewed, copied } = await receiveAll(receiver, sent.length);
  assert.equal(got.length, sent.length, 'datagram count');
  got.forEach((bytes, k) => assert.deepEqual(bytes, sent[k], `datagram ${k}`));
  assert.equal(receiver.stats.recvCoalescing, 'gro');
  assert.ok((receiver.stats.recvGroMessages ?? 0) >= 3, `super-datagrams: ${receiver.stats.recvGroMessages}`);
  assert.equal(receiver.stats.packetsReceived, sent.length, 'each datagram of a super-datagram counted');
  assert.ok(viewed >= 64, `datagrams seen through views: ${viewed}`);
  assert.ok(copied > 0 && copied <= 20, `tiny datagrams copied: ${copied}`);
  assert.equal(receiver.stats.recvDropsTooBig, 0);
}

for (const family of [4, 6] as const) {
  const local = family === 4 ? '127.0.0.1' : '::1';
  test(`native recv (UDP_GRO) on loopback IPv${family}: super-datagrams split exact, in order, counted`, async () => {
    const receiver = openTunnelSocketSync({ address: local, port: 0, recvBufferSize: 4 << 20, receiveOffload: true });
    const sender = openTunnelSocketSync({ address: family === 4 ? '0.0.0.0' : '::', port: 0 });
    try {
      assert.equal(receiver.receivesSuperDatagrams, true);
      assert.equal(receiver.groRefusal, null);
      await check(sender, receiver, local);
    } finally {
      sender.close();
      receiver.close();
    }
  });
}

test('native recv without receiveOffload: one datagram per slot, segmentSize 0', async () => {
  const receiver = openTunnelSocketSync({ address: '127.0.0.1', port: 0, recvBufferSize: 4 << 20 });
  const sender = openTunnelSocketSync({ address: '0.0.0.0', port: 0 });
  try {
    assert.equal(receiver.receivesSuperDatagrams, false);
    assert.equal(receiver.stats.recvCoalescing, 'plain');
    const plan = PLAN.slice(0, 64);
    const sent = await send(sender, '127.0.0.1', receiver.localPort, plan);
    assert.ok((sender.stats.sendGsoMessages ?? 0) >= 1, 'the sender glued them');
    const rx = new PacketBatch(64, 2048);
    rx.segmentSize.fill(7);
    const got: Uint8Array[] = [];
    await waitFor(
      'every datagram',
      () => {
        const n = receiver.recv(rx, 0);
        for (let i = 0; i < n; i++) {
          assert.equal(rx.segmentSize[i], 0);
          got.push(Uint8Array.from(rx.buffer.subarray(rx.start(i), rx.start(i) + rx.lengths[i])));
        }
        return got.length >= sent.length;
      },
      5000,
      2,
    );
    got.forEach((bytes, k) => assert.deepEqual(bytes, sent[k], `datagram ${k}`));
    assert.equal(receiver.stats.recvGroMessages, 0);
  } finally {
    sender.close();
    receiver.close();
  }
});

// Two namespaces joined by a veth: 198.51.100.1 sends to .2.
const nsA = new LabNamespace(`dvg-gro-a-${process.pid}`);
const nsB = new LabNamespace(`dvg-gro-b-${process.pid}`);
after(() => {
  nsA.dispose();
  nsB.dispose();
});
vethAcross(nsA, nsB);

test('native recv (UDP_GRO) across a veth between namespaces: super-datagrams split exact, in order, counted', async () => {
  const receiver = nsB.run(() =>
    openTunnelSocketSync({ address: '198.51.100.2', port: 0, recvBufferSize: 4 << 20, receiveOffload: true }),
  );
  const sender = nsA.run(() => openTunnelSocketSync({ address: '198.51.100.1', port: 0 }));
  try {
    await check(sender, receiver, '198.51.100.2');
  } finally {
    sender.close();
    receiver.close();
  }
});
