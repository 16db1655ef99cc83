import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '@dvs/wire';
import { PacketBatch, openTunnelSocketSync } from '../src/index.js';
import { LabNamespace, vethAcross } from '../src/testing/index.js';
import { waitFor } from '@dvs/test-support';

// A UDP GSO message whose segments do not fit the route's MTU is refused
// whole (EMSGSIZE). The native socket sends that message again datagram by
// datagram, as it would have without GSO (here: IP-fragmented), none lost and
// none counted as dropped; that refusal says nothing against UDP_SEGMENT
// itself, so the socket stays in GSO mode. (The permanent fall-back to plain
// datagrams, on EINVAL/ENOPROTOOPT/EIO at first use, needs a kernel or route
// without UDP GSO, which this lab cannot make.)
const nsA = new LabNamespace(`dvg-gsosp-a-${process.pid}`);
const nsB = new LabNamespace(`dvg-gsosp-b-${process.pid}`);
after(() => {
  nsA.dispose();
  nsB.dispose();
});
vethAcross(nsA, nsB, { mtu: 1000 });

test('native send: a GSO message too big for the MTU goes again datagram by datagram, and GSO stays on', async () => {
  const receiver = nsB.run(() => openTunnelSocketSync({ address: '198.51.100.2', port: 0, recvBufferSize: 1 << 20 }));
  const socket = nsA.run(() => openTunnelSocketSync({ address: '198.51.100.1', port: 0 }));
  try {
    const to = parseIpAddress('198.51.100.2');
    assert.ok(to !== null && to.family === 4);
    const batch = new PacketBatch(16, 2048);
    const slots = Uint32Array.from({ length: 16 }, (_, i) => i);
    for (let i = 0; i < 16; i++) {
      batch.offsets[i] = 0;
      batch.lengths[i] = 1200;
      batch.buffer.fill(i, i * batch.slotSize, i * batch.slotSize + 1200);
      batch.setIpv4Destination(i, to.ipv4, receiver.localPort);
    }
    assert.equal(socket.send(batch, slots, 16), 16);
    assert.equal(socket.stats.sendSegmentation, 'gso', 'EMSGSIZE is the route, not UDP_SEGMENT');
    assert.equal(socket.stats.sendGsoMessages, 0);
    assert.equal(socket.stats.sendDropsInvalid, 0);
    assert.equal(socket.lastSendError, null);
    assert.equal(socket.send(batch, slots, 16), 16, 'again');
    assert.equal(socket.stats.sendGsoMessages, 0);
    assert.equal(socket.stats.packetsSent, 32);
    const rx = new PacketBatch(64, 2048);
    const seen: number[] = [];
    await waitFor(
      '32 datagrams',
      () => {
        const n = receiver.recv(rx, 0);
        for (let i = 0; i < n; i++) {
          const payload = rx.buffer.subarray(
            i * rx.slotSize + rx.offsets[i],
            i * rx.slotSize + rx.offsets[i] + rx.lengths[i],
          );
          assert.equal(payload.length, 1200);
          assert.ok(
            payload.every((b) => b === payload[0]),
            'payload bytes intact',
          );
          seen.push(payload[0]);
        }
        return seen.length >= 32;
      },
      5000,
      2,
    );
    assert.deepEqual(seen, [...slots, ...slots]);
  } finally {
    socket.close();
    receiver.close();
  }
});
