// Encap + decap cost per frame, VXLAN and GRE-in-UDP, 64 B and 1400 B frames,
// beside a plain Buffer.copy of the same bytes measured in the same run.
//
// What one "encap+decap" is — the data path's per-frame header work:
//   encap: write the 8-byte tunnel header into the frame's headroom (in place)
//   decap: read and validate the tunnel header (VNI or -1), then read the inner
//          destination and source MACs (lookup and learning keys)
// The baseline copies the packet's bytes (header + frame) into another buffer:
// what encapsulation would cost if it could not work in place.
//
// Then the offload rows (offload.ts): segmentation, coalescing, flow hash.
//
// Method: a batch of 256 frames in pooled slots with headroom; warm-up rounds
// discarded, then ROUNDS timed rounds of FRAMES_PER_ROUND frames each with
// process.hrtime.bigint; the median round is reported. Usage:
//   npm run bench -w @dvs/wire [-- --rounds N] [-- --json]
import {
  GRE_UDP_HEADER_LENGTH,
  VXLAN_HEADER_LENGTH,
  readGreUdpVni,
  readMac,
  readVxlanVni,
  writeEthernetHeader,
  writeGreUdpHeader,
  writeVxlanHeader,
} from '../src/frames/index.js';
import { printOffloadResults, runOffloadBench } from './offload.js';

const BATCH = 256;
const HEADROOM = 64;
const FRAMES_PER_ROUND = 1 << 18;
const WARMUP_ROUNDS = 3;
const FRAME_SIZES = [64, 1400] as const;

interface Codec {
  name: string;
  headerLength: number;
  round: (pool: Pool, frameSize: number, frames: number) => bigint;
}

const CODECS: Codec[] = [
  { name: 'vxlan', headerLength: VXLAN_HEADER_LENGTH, round: vxlanRound },
  { name: 'gre-udp', headerLength: GRE_UDP_HEADER_LENGTH, round: greUdpRound },
];

interface Pool {
  buf: Buffer;
  slotSize: number;
}

function makePool(frameSize: number): Pool {
  const slotSize = HEADROOM + frameSize;
  const buf = Buffer.alloc(BATCH * slotSize);
  for (let i = 0; i < BATCH; i++) {
    const off = i * slotSize + HEADROOM;
    writeEthernetHeader(buf, off, 0x020000000000 + i, 0x020000010000 + i, 0x0800);
    for (let j = 14; j < frameSize; j++) buf[off + j] = (i + j) & 0xff;
  }
  return { buf, slotSize };
}

/** Sink for results so the optimiser cannot drop the work. */
let sink = 0;

// One loop per encap, written out twice on purpose: a shared loop calling
// codec.write/codec.read through a variable turns megamorphic after the first
// encap and would measure V8's call dispatch, not the codecs.
function vxlanRound(pool: Pool, frameSize: number, frames: number): bigint {
  const { buf, slotSize } = pool;
  const headerOff = HEADROOM - VXLAN_HEADER_LENGTH;
  const packetLength = VXLAN_HEADER_LENGTH + frameSize;
  let acc = 0;
  const start = process.hrtime.bigint();
  for (let n = 0; n < frames; n++) {
    const off = (n & (BATCH - 1)) * slotSize + headerOff;
    writeVxlanHeader(buf, off, 100 + (n & 0xff));
    const vni = readVxlanVni(buf, off, packetLength);
    if (vni < 0 || packetLength - VXLAN_HEADER_LENGTH < 14) continue;
    const inner = off + VXLAN_HEADER_LENGTH;
    acc += vni + readMac(buf, inner) - readMac(buf, inner + 6);
  }
  const elapsed = process.hrtime.bigint() - start;
  sink += acc;
  return elapsed;
}

function greUdpRound(pool: Pool, frameSize: number, frames: number): bigint {
  const { buf, slotSize } = pool;
  const headerOff = HEADROOM - GRE_UDP_HEADER_LENGTH;
  const packetLength = GRE_UDP_HEADER_LENGTH + frameSize;
  let acc = 0;
  const start = process.hrtime.bigint();
  for (let n = 0; n < frames; n++) {
    const off = (n & (BATCH - 1)) * slotSize + headerOff;
    writeGreUdpHeader(buf, off, 100 + (n & 0xff));
    const vni = readGreUdpVni(buf, off, packetLength);
    if (vni < 0 || packetLength - GRE_UDP_HEADER_LENGTH < 14) continue;
    const inner = off + GRE_UDP_HEADER_LENGTH;
    acc += vni + readMac(buf, inner) - readMac(buf, inner + 6);
  }
  const elapsed = process.hrtime.bigint() - start;
  sink += acc;
  return elapsed;
}

function copyRound(headerLength: number, pool: Pool, frameSize: number, frames: number, target: Buffer): bigint {
  const { buf, slotSize } = pool;
  const headerOff = HEADROOM - headerLength;
  const packetLength = headerLength + frameSize;
  const start = process.hrtime.bigint();
  for (let n = 0; n < frames; n++) {
    const from = (n & (BATCH - 1)) * slotSize + headerOff;
    buf.copy(target, 0, from, from + packetLength);
  }
  const elapsed = process.hrtime.bigint() - start;
  sink += target[packetLength - 1];
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Result {
  encap: string;
  frameBytes: number;
  encapDecapNs: number;
  copyNs: number;
  ratio: number;
}

function measure(codec: Codec, frameSize: number, rounds: number): Result {
  const pool = makePool(frameSize);
  const target = Buffer.alloc(codec.headerLength + frameSize);
  const ours: number[] = [];
  const copies: number[] = [];
  for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
    // Alternate the two so drift on a shared machine hits both alike.
    const a = codec.round(pool, frameSize, FRAMES_PER_ROUND);
    const b = copyRound(codec.headerLength, pool, frameSize, FRAMES_PER_ROUND, target);
    if (r < WARMUP_ROUNDS) continue;
    ours.push(Number(a) / FRAMES_PER_ROUND);
    copies.push(Number(b) / FRAMES_PER_ROUND);
  }
  const encapDecapNs = median(ours);
  const copyNs = median(copies);
  return { encap: codec.name, frameBytes: frameSize, encapDecapNs, copyNs, ratio: encapDecapNs / copyNs };
}

function parseArgs(argv: string[]): { rounds: number; json: boolean } {
  let rounds = 7;
  const i = argv.indexOf('--rounds');
  if (i >= 0) {
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      console.error(`--rounds must be an integer 1..1000, got ${argv[i + 1]}`);
      process.exit(2);
    }
    rounds = n;
  }
  return { rounds, json: argv.includes('--json') };
}

function main(): void {
  const { rounds, json } = parseArgs(process.argv.slice(2));
  const results: Result[] = [];
  for (const codec of CODECS) for (const size of FRAME_SIZES) results.push(measure(codec, size, rounds));
  const offload = runOffloadBench(rounds);
  if (json) {
    console.log(JSON.stringify({ rounds, framesPerRound: FRAMES_PER_ROUND, results, offload }, null, 2));
    return;
  }
  console.log(
    `wire: encap+decap per frame vs Buffer.copy of the same bytes (median of ${rounds} rounds × ${FRAMES_PER_ROUND} frames)`,
  );
  console.log(
    `${'encap'.padEnd(8)} ${'frame'.padStart(6)} ${'encap+decap'.padStart(12)} ${'Buffer.copy'.padStart(12)} ${'ratio'.padStart(6)}`,
  );
  for (const r of results) {
    console.log(
      `${r.encap.padEnd(8)} ${`${r.frameBytes} B`.padStart(6)} ${`${r.encapDecapNs.toFixed(1)} ns`.padStart(12)} ${`${r.copyNs.toFixed(1)} ns`.padStart(12)} ${`${r.ratio.toFixed(2)}x`.padStart(6)}`,
    );
  }
  printOffloadResults(offload, rounds);
  if (sink === Number.MIN_SAFE_INTEGER) console.log('');
}

main();
