/**
 * "No allocation per frame on the hot path", measured: after a warm-up, a
 * million frames through each pipeline path must not trigger a single garbage
 * collection (one 16-byte allocation per frame would fill the young
 * generation several times over).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PacketBatch, type FrameDevice, type TunnelSocket } from '@dvs/netdev';
import { DataPath, HEADROOM } from '../src/datapath/index.js';
import type { Pipeline, SocketTarget } from '../src/datapath/pipeline.js';
import type { Port } from '../src/datapath/port.js';
import { frame, mac } from './frames.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const discard: FrameDevice = {
  name: 'sink',
  mtu: 1500,
  read: () => 0,
  write: (_b, _s, n) => n,
  onReadable() {},
  close() {},
};
const socket: TunnelSocket = {
  localAddress: '0.0.0.0',
  localPort: 4789,
  recv: () => 0,
  send: (_b, _s, n) => n,
  onReadable() {},
  close() {},
};

const PEER_B = '198.51.100.2';
const PEER_V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2]);
const REMOTE_VM = mac('52:54:00:00:be:ef');
const LOCAL_VM = mac('52:54:00:00:00:02');

function setup(): { pipeline: Pipeline; p1: Port; target: SocketTarget } {
  const dp = new DataPath({ agingTimer: false, now: () => 1.7e12 });
  dp.attachSocket('vxlan', socket);
  dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    {
      kind: 'flood:set',
      vni: 100,
      vteps: [
        { address: PEER_B, port: 4789 },
        { address: '198.51.100.3', port: 4789 },
      ],
    },
    { kind: 'fdb:set', vni: 100, mac: REMOTE_VM, vtep: { address: PEER_B, port: 4789 }, seq: 0 },
    { kind: 'peers:set', vni: 100, vteps: [{ address: '2001:db8::2', port: 4789 }] },
  ]);
  dp.addPort({ name: 'p1', mode: 'access', vni: 100 }, discard);
  dp.addPort({ name: 'p2', mode: 'access', vni: 100 }, { ...discard, name: 'p2' });
  dp.addPort({ name: 'p3', mode: 'trunk', vlans: new Map([[10, 100]]) }, { ...discard, name: 'p3' });
  dp.addStaticLocal(100, LOCAL_VM, 'p2');
  const internals = dp as unknown as { pipeline: Pipeline };
  const pipeline = internals.pipeline;
  return { pipeline, p1: pipeline.ports.get('p1') as Port, target: pipeline.sockets.get('vxlan') as SocketTarget };
}

/** Fills `batch` with 64 copies of `payload` at HEADROOM (and UDP source PEER_B). */
function load(batch: PacketBatch, payload: Buffer): () => void {
  const reset = () => {
    for (let i = 0; i < batch.capacity; i++) {
      batch.buffer.set(payload, i * batch.slotSize + HEADROOM);
      batch.offsets[i] = HEADROOM;
      batch.lengths[i] = payload.length;
      batch.setIpv4Destination(i, 0xc6336402, 40000);
    }
  };
  reset();
  return reset;
}

async function gcsDuring(run: () => void): Promise<number> {
  const seen: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) seen.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  gc();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 20));
  observer.disconnect();
  return seen.filter((t) => t >= t0 && t <= t1).length;
}

const ROUNDS = 16_000; // × 64 frames = 1,024,000 frames per path

test('no garbage collection while switching a million frames on each path', async () => {
  const { pipeline, p1, target } = setup();
  const batch = new PacketBatch(64, 9344);
  const src = mac('52:54:00:00:00:01');
  const vxlan = (inner: Buffer) => Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 100, 0]), inner]);
  const paths: [string, Buffer, (n: number) => void][] = [
    [
      'port → known remote VTEP (encap in place)',
      frame(REMOTE_VM, src, 100),
      (n) => pipeline.processPortBatch(p1, batch, n),
    ],
    ['port → local port', frame(LOCAL_VM, src, 100), (n) => pipeline.processPortBatch(p1, batch, n)],
    [
      'port → flood (2 ports, 1 tagged, 2 VTEPs)',
      frame(0xffffffffffff, src, 100),
      (n) => pipeline.processPortBatch(p1, batch, n),
    ],
    [
      'tunnel → local port (decap)',
      vxlan(frame(LOCAL_VM, REMOTE_VM, 100)),
      (n) => pipeline.processTunnelBatch(target, batch, n),
    ],
    [
      'tunnel → garbage',
      Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      (n) => pipeline.processTunnelBatch(target, batch, n),
    ],
    [
      'tunnel from an IPv6 peer → local port',
      vxlan(frame(LOCAL_VM, REMOTE_VM, 100)),
      (n) => {
        for (let i = 0; i < n; i++) batch.setIpv6Destination(i, PEER_V6, 40000);
        pipeline.processTunnelBatch(target, batch, n);
      },
    ],
  ];
  for (const [name, payload, process] of paths) {
    const reset = load(batch, payload);
    for (let r = 0; r < 2000; r++) {
      reset();
      process(64);
    }
    const gcs = await gcsDuring(() => {
      for (let r = 0; r < ROUNDS; r++) {
        reset();
        process(64);
      }
    });
    assert.equal(gcs, 0, `${name}: ${gcs} garbage collections`);
  }
  assert.equal(pipeline.drops['unknown-vtep'], 0, 'the IPv6 peer was recognised (the path was really switched)');
  assert.ok(pipeline.drops.malformed > 0, 'the garbage path was really dropped');
});
