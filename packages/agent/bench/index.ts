/**
 * Data path benchmark: frames per second through each pipeline path, with
 * devices that take everything (so only the switching is measured), against
 * a baseline measured in the same run: a loop that reads each frame's
 * destination MAC and looks it up in a Map — the least any switch does.
 * Prints frames/s, the ratio to the baseline and the GCs seen (0 = nothing
 * allocated per frame). The paths are the zero-GC test's (test/pipeline-rig.ts).
 *
 *   npm run bench -w @dvs/agent        (or: node packages/agent/dist/bench/index.js [rounds])
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { FlowTap } from '../src/datapath/index.js';
import {
  loadCase,
  pipelineCases,
  pipelineRig,
  REMOTE_VM,
  rigFlowTap,
  rigFrame,
  SENDER_VM,
} from '../test/pipeline-rig.js';

const ROUNDS = Number(process.argv[2] ?? 20_000);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.log('usage: node packages/agent/dist/bench/index.js [rounds]   (default 20000 batches of 64 frames)');
  process.exit(process.argv[2] === '--help' || process.argv[2] === '-h' ? 0 : 2);
}
const FRAME_LENGTH = 1000;

const rig = pipelineRig();
const { batch } = rig;
const BATCH = batch.capacity;

let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });

function measure(reset: () => void, run: (n: number) => void): { fps: number; gcs: number } {
  for (let r = 0; r < 1000; r++) {
    reset();
    run(BATCH);
  }
  gcs = 0;
  const t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    reset();
    run(BATCH);
  }
  const ms = performance.now() - t0;
  return { fps: (ROUNDS * BATCH) / (ms / 1000), gcs };
}

// Baseline: read the destination MAC of every frame and look it up.
const table = new Map<number, Map<number, number>>([[0x525400, new Map([[0x00beef, 1]])]]);
let hits = 0;
const baselineRun = (n: number): void => {
  const b = batch.buffer;
  for (let i = 0; i < n; i++) {
    const o = batch.start(i);
    const hi = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
    const lo = (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5];
    if (table.get(hi)?.get(lo) !== undefined) hits++;
  }
};

/** The rig's paths with 1000-byte frames (the inner frame of a tunnel case grows to it too). */
const cases = pipelineCases(rig).map((c) => {
  const grow = FRAME_LENGTH - c.payload.length;
  return grow > 0 && c.payload.length > 14
    ? { ...c, payload: Buffer.concat([c.payload, Buffer.alloc(grow, 0x5a)]) }
    : c;
});
const baseline = {
  name: 'baseline: read dst MAC + lookup',
  payload: rigFrame(REMOTE_VM, SENDER_VM, FRAME_LENGTH),
  from: 4 as const,
  run: baselineRun,
  outPerFrame: {},
};

console.log(
  `dvs agent data path: ${ROUNDS * BATCH} frames of about ${FRAME_LENGTH} bytes per case, batches of ${BATCH}`,
);
let baselineFps = 0;
for (const c of [baseline, ...cases]) {
  const r = measure(loadCase(rig, c), c.run);
  if (baselineFps === 0) baselineFps = r.fps;
  console.log(
    `${c.name.padEnd(56)} ${(r.fps / 1e6).toFixed(2).padStart(7)} Mframes/s  ${(baselineFps / r.fps).toFixed(2).padStart(6)}x baseline time  GCs ${r.gcs}`,
  );
}

// What a feature costs when it is on: the same path with it off and on, in
// alternating short runs (a loaded machine drifts; alternating spreads the
// drift over both), the median of the per-pair ratios.
function featureCost(name: string, c: (typeof cases)[number], off: () => void, on: () => void): void {
  const reset = loadCase(rig, c);
  const ratios: number[] = [];
  for (let k = 0; k < 11; k++) {
    off();
    const a = measure(reset, c.run).fps;
    on();
    const b = measure(reset, c.run).fps;
    ratios.push(b / a);
  }
  ratios.sort((x, y) => x - y);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  console.log(
    `${name.padEnd(56)} ${((1 - median) * 100).toFixed(1).padStart(6)} % of throughput (median of ${ratios.length} alternating pairs)`,
  );
}
const policed = cases.find((c) => c.name.startsWith('GRE-in-UDP: port (ingress policed)'));
if (policed !== undefined) {
  featureCost(
    'cost of ingress policing (GRE port → remote VTEP)',
    policed,
    () => rig.dp.setPortPolicer('p4', 'ingress', null),
    () => rig.dp.setPortPolicer('p4', 'ingress', { rateKbps: 1000, burstKb: 100_000_000 }),
  );
}
// Flow export: the same IPv4/UDP frames from a VXLAN port to a remote VTEP,
// with no flow tap, then with sFlow at 1-in-1000 or the IPFIX cache on (the
// sample ring drained after each batch, as the exporter does).
const udpCase = cases.find((c) => c.name.startsWith('flow export: port'));
if (udpCase !== undefined) {
  const tap = rigFlowTap();
  const sflowOnly = new FlowTap();
  sflowOnly.sampler = tap.sampler;
  const ipfixOnly = new FlowTap();
  ipfixOnly.cache = tap.cache;
  const p1 = rig.pipeline.ports.get('p1')!;
  const plain = {
    ...udpCase,
    run: (n: number) => {
      rig.pipeline.processPortBatch(p1, batch, n);
      tap.sampler!.tail = tap.sampler!.head;
    },
  };
  const off = (): void => rig.dp.setFlowTap(null);
  featureCost('cost of sFlow 1-in-1000 (VXLAN port → remote VTEP)', plain, off, () => rig.dp.setFlowTap(sflowOnly));
  featureCost('cost of IPFIX flow cache (VXLAN port → remote VTEP)', plain, off, () => rig.dp.setFlowTap(ipfixOnly));
  rig.dp.setFlowTap(null);
}
if (hits < 0) console.log(hits);
