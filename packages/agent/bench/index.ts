/**
 * Data path benchmark: frames per second through each pipeline path, with
 * devices that take everything (so only the switching is measured), against
 * a baseline measured in the same run: a loop that reads each frame's
 * destination MAC and looks it up in a Map — the least any switch does.
 * Prints frames/s, the ratio to the baseline and the GCs seen (0 = nothing
 * allocated per frame).
 *
 *   npm run bench -w @dvs/agent        (or: node packages/agent/dist/bench/index.js [rounds])
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { PacketBatch, type FrameDevice, type TunnelSocket } from '@dvs/netdev';
import { parseMac, writeMac } from '@dvs/wire';
import { DataPath, HEADROOM } from '../src/datapath/index.js';
import type { Pipeline, SocketTarget } from '../src/datapath/pipeline.js';
import type { Port } from '../src/datapath/port.js';

const ROUNDS = Number(process.argv[2] ?? 20_000);
const BATCH = 64;
const FRAME_LENGTH = 1000;

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
const mac = (t: string) => parseMac(t) as number;
const REMOTE = mac('52:54:00:00:be:ef');
const LOCAL = mac('52:54:00:00:00:02');
const SRC = mac('52:54:00:00:00:01');

function frame(dst: number, src: number): Buffer {
  const f = Buffer.alloc(FRAME_LENGTH, 0x5a);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

const dp = new DataPath({ agingTimer: false, now: () => 1.7e12 });
dp.attachSocket('vxlan', socket);
dp.apply([
  { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
  {
    kind: 'flood:set',
    vni: 100,
    vteps: [
      { address: '198.51.100.2', port: 4789 },
      { address: '198.51.100.3', port: 4789 },
    ],
  },
  { kind: 'fdb:set', vni: 100, mac: REMOTE, vtep: { address: '198.51.100.2', port: 4789 }, seq: 0 },
]);
dp.addPort({ name: 'p1', mode: 'access', vni: 100 }, discard);
dp.addPort({ name: 'p2', mode: 'access', vni: 100 }, { ...discard, name: 'p2' });
dp.addPort({ name: 'p3', mode: 'trunk', vlans: new Map([[10, 100]]) }, { ...discard, name: 'p3' });
dp.addStaticLocal(100, LOCAL, 'p2');
const pipeline = (dp as unknown as { pipeline: Pipeline }).pipeline;
const p1 = pipeline.ports.get('p1') as Port;
const target = pipeline.sockets.get('vxlan') as SocketTarget;
const batch = new PacketBatch(BATCH, 9344);

function loader(payload: Buffer): () => void {
  for (let i = 0; i < BATCH; i++) batch.buffer.set(payload, i * batch.slotSize + HEADROOM);
  return () => {
    for (let i = 0; i < BATCH; i++) {
      batch.offsets[i] = HEADROOM;
      batch.lengths[i] = payload.length;
      batch.setIpv4Destination(i, 0xc6336402, 40000);
    }
  };
}

let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });

function measure(reset: () => void, run: () => void): { fps: number; gcs: number } {
  for (let r = 0; r < 1000; r++) {
    reset();
    run();
  }
  gcs = 0;
  const t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    reset();
    run();
  }
  const ms = performance.now() - t0;
  return { fps: (ROUNDS * BATCH) / (ms / 1000), gcs };
}

// Baseline: read the destination MAC of every frame and look it up.
const table = new Map<number, Map<number, number>>([[0x525400, new Map([[0x00beef, 1]])]]);
let hits = 0;
const baselineRun = () => {
  const b = batch.buffer;
  for (let i = 0; i < BATCH; i++) {
    const o = batch.start(i);
    const hi = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
    const lo = (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5];
    if (table.get(hi)?.get(lo) !== undefined) hits++;
  }
};

const vxlanOf = (inner: Buffer) => Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 100, 0]), inner]);
const cases: [string, Buffer, () => void][] = [
  ['baseline: read dst MAC + lookup', frame(REMOTE, SRC), baselineRun],
  ['port → remote VTEP (encap in place)', frame(REMOTE, SRC), () => pipeline.processPortBatch(p1, batch, BATCH)],
  ['port → local port', frame(LOCAL, SRC), () => pipeline.processPortBatch(p1, batch, BATCH)],
  ['port → flood (2 ports, 2 VTEPs)', frame(0xffffffffffff, SRC), () => pipeline.processPortBatch(p1, batch, BATCH)],
  [
    'tunnel → local port (decap)',
    vxlanOf(frame(LOCAL, REMOTE)),
    () => pipeline.processTunnelBatch(target, batch, BATCH),
  ],
  ['tunnel → garbage (dropped)', Buffer.alloc(40, 1), () => pipeline.processTunnelBatch(target, batch, BATCH)],
];

console.log(`dvs agent data path: ${ROUNDS * BATCH} frames of ${FRAME_LENGTH} bytes per case, batches of ${BATCH}`);
let baseline = 0;
for (const [name, payload, run] of cases) {
  const r = measure(loader(payload), run);
  if (baseline === 0) baseline = r.fps;
  console.log(
    `${name.padEnd(40)} ${(r.fps / 1e6).toFixed(2).padStart(7)} Mframes/s  ${(baseline / r.fps).toFixed(2).padStart(6)}x baseline time  GCs ${r.gcs}`,
  );
}
if (hits < 0) console.log(hits);
