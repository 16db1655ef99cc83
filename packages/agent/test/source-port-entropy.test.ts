import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, type TunnelSocket } from '@dvs/netdev';
import { SocketTarget } from '../src/datapath/pipeline-io.js';
import { TUNNEL_HEADER_LENGTH } from '../src/datapath/encap.js';

// Per-flow outer source ports (RFC 7348 §5): the data path hashes each
// frame's inner flow onto the socket's source-port pool.

const POOL = Array.from({ length: 16 }, (_, k) => 49152 + k);

function socketWith(sourcePorts: readonly number[]): TunnelSocket {
  return {
    localAddress: '198.51.100.1',
    localPort: 4789,
    sourcePorts,
    recv: () => 0,
    send: () => 0,
    onReadable: () => undefined,
    close: () => undefined,
  };
}

/** A VXLAN-headed IPv4 TCP frame of flow (srcPort → 80) carrying sequence number `seq` and `payload` bytes. */
function place(batch: PacketBatch, slot: number, flowPort: number, seq: number, payload: number): void {
  const at = slot * batch.slotSize + 64;
  const b = batch.buffer;
  b.fill(0, at, at + TUNNEL_HEADER_LENGTH + 54 + payload);
  const f = at + TUNNEL_HEADER_LENGTH;
  b.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], f);
  b.set([0x45, 0, 0, 40 + payload, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], f + 14);
  b.writeUInt16BE(flowPort, f + 34);
  b.writeUInt16BE(80, f + 36);
  b.writeUInt32BE(seq, f + 38);
  b[f + 46] = 0x50;
  batch.offsets[slot] = 64;
  batch.lengths[slot] = TUNNEL_HEADER_LENGTH + 54 + payload;
}

test('flows spread over the pool; every packet of one flow takes one port', () => {
  const target = new SocketTarget('vxlan', socketWith(POOL), 4, 4);
  const batch = new PacketBatch(2, 2048);
  const portOfFlow = new Map<number, number>();
  for (let flow = 0; flow < 256; flow++) {
    for (let packet = 0; packet < 4; packet++) {
      place(batch, packet % 2, 30000 + flow, packet * 1448, packet === 3 ? 100 : 1448);
      target.stampSourcePort(batch, packet % 2, TUNNEL_HEADER_LENGTH);
      const port = batch.sourcePort[packet % 2];
      assert.ok(POOL.includes(port), `port ${port} is in the pool`);
      if (packet === 0) portOfFlow.set(flow, port);
      else assert.equal(port, portOfFlow.get(flow), `flow ${flow} stays on one port`);
      assert.equal(target.sourcePortOf(batch, packet % 2), port);
    }
  }
  const perPort = new Map<number, number>();
  for (const port of portOfFlow.values()) perPort.set(port, (perPort.get(port) ?? 0) + 1);
  assert.equal(perPort.size, POOL.length, 'all 16 ports carry flows');
  // 256 flows over 16 ports: 16 each on average; a fair hash keeps every port within 3x of it.
  for (const [port, flows] of perPort) assert.ok(flows >= 5 && flows <= 48, `port ${port} carries ${flows} flows`);
});

test('without a pool, the source port is left alone and reported as the tunnel port', () => {
  const target = new SocketTarget('gre-udp', socketWith([]), 4, 4);
  const batch = new PacketBatch(1, 2048);
  place(batch, 0, 30000, 0, 10);
  target.stampSourcePort(batch, 0, TUNNEL_HEADER_LENGTH);
  assert.equal(batch.sourcePort[0], 0);
  assert.equal(target.sourcePortOf(batch, 0), 4789);
});
