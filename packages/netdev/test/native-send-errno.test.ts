import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '@dvs/wire';
import { PacketBatch, openTunnelSocketSync, type NativeTunnelSocket } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

// A namespace with only loopback: 192.0.2.1 has no route (ENETUNREACH), and
// 198.51.100.0/24 an `unreachable` route (EHOSTUNREACH). The native socket
// consumes such a datagram (dropped, not retried) and must say why.
const ns = new LabNamespace(`dvt-errno-${process.pid}`);
after(() => ns.dispose());
ns.ip('route', 'add', 'unreachable', '198.51.100.0/24');

function addressed(batch: PacketBatch, slot: number, address: string, port: number): void {
  const parsed = parseIpAddress(address);
  assert.ok(parsed !== null && parsed.family === 4);
  batch.offsets[slot] = 0;
  batch.lengths[slot] = 20;
  batch.setIpv4Destination(slot, parsed.ipv4, port);
}

test('native send: a datagram the kernel refuses is consumed, and its errno is reported and counted', () => {
  const receiver: NativeTunnelSocket = ns.run(() => openTunnelSocketSync({ address: '127.0.0.1', port: 0 }));
  const socket: NativeTunnelSocket = ns.run(() => openTunnelSocketSync({ address: '0.0.0.0', port: 0 }));
  try {
    const batch = new PacketBatch(3, 256);
    addressed(batch, 0, '127.0.0.1', receiver.localPort);
    addressed(batch, 1, '192.0.2.1', 4789);
    addressed(batch, 2, '198.51.100.7', 4789);
    assert.equal(socket.send(batch, [0, 1], 2), 2, 'both consumed');
    assert.equal(socket.lastSendError, 'ENETUNREACH');
    assert.equal(socket.stats.packetsSent, 1);
    assert.equal(socket.send(batch, [2], 1), 1);
    assert.equal(socket.lastSendError, 'EHOSTUNREACH');
    assert.equal(socket.send(batch, [0], 1), 1);
    assert.equal(socket.lastSendError, null, 'a clean send clears it');
    assert.equal(socket.send(batch, [1, 1], 2), 2);
    assert.deepEqual(socket.stats.sendDropsByErrno, { ENETUNREACH: 3, EHOSTUNREACH: 1 });
    assert.equal(socket.stats.sendDropsInvalid, 4);
    assert.equal(socket.stats.packetsSent, 2);
    const rx = new PacketBatch(4, 256);
    assert.equal(receiver.recv(rx, 0), 2, 'the loopback datagrams arrived');
  } finally {
    socket.close();
    receiver.close();
  }
});
