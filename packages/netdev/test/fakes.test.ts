import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4Address } from '@dvs/wire';
import { PacketBatch } from '../src/index.js';
import { FakeUdpNetwork, createFakeFramePair } from '../src/testing/index.js';

function frame(dst: number, src: number, payload: string): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  f.fill(dst, 0, 6);
  f.fill(src, 6, 12);
  f.writeUInt16BE(0x88b5, 12);
  f.write(payload, 14);
  return f;
}

test('two fake TAPs ping each other', async () => {
  const [a, b] = createFakeFramePair({ name: 'a0' }, { name: 'b0' });
  const batch = new PacketBatch(8, 256);
  const got = new Promise<string>((resolve) => {
    b.onReadable(() => {
      const n = b.read(batch, 32);
      assert.equal(n, 1);
      resolve(batch.buffer.toString('utf8', batch.start(0) + 14, batch.start(0) + batch.lengths[0]));
    });
  });
  const out = new PacketBatch(1, 256);
  const ping = frame(2, 1, 'ping');
  ping.copy(out.buffer, 0);
  out.lengths[0] = ping.length;
  assert.equal(a.write(out, [0], 1), 1);
  assert.equal(await got, 'ping');
  a.close();
  b.close();
});

test('fake UDP sockets deliver with source address', async () => {
  const net = new FakeUdpNetwork();
  const s1 = net.bind({ address: '192.0.2.1', port: 4789 });
  const s2 = net.bind({ address: '192.0.2.2', port: 0 });
  const batch = new PacketBatch(4, 256);
  batch.buffer.write('hello', 16);
  batch.offsets[0] = 16;
  batch.lengths[0] = 5;
  batch.setIpv4Destination(0, parseIpv4Address('192.0.2.1') as number, 4789);
  const got = new Promise<void>((resolve) => s1.onReadable(() => resolve()));
  assert.equal(s2.send(batch, [0], 1), 1);
  await got;
  const rx = new PacketBatch(4, 256);
  assert.equal(s1.recv(rx, 8), 1);
  assert.equal(rx.ipv4[0], parseIpv4Address('192.0.2.2') as number);
  assert.equal(rx.port[0], s2.localPort);
  assert.equal(rx.buffer.toString('utf8', rx.start(0), rx.start(0) + 5), 'hello');
  s1.close();
  s2.close();
});
