// Offload costs, each beside a Buffer.copy of the same bytes measured
// alternately in the same run (what moving the bytes once costs natively):
//
//   segment in place   a 64 KiB TCP/IPv4 super-frame (timestamps, MSS 1448:
//                      45 segments) cut in place into the back-to-back layout
//                      one UDP GSO send takes (PackedSlots, headroom 8), every
//                      checksum computed; per super-frame. Baseline: copying
//                      the super-frame's bytes once.
//   segment to slots   the same into 2 KiB slots of another buffer
//                      (StridedSlots); per super-frame. Same baseline.
//   coalesce           45 such segments pushed and flushed as one super-frame
//                      (checksums verified, payload copied); per segment.
//                      Baseline: copying one segment's bytes.
//   checksum           the Internet checksum of the 64 KiB super-frame: the
//                      bulk of both segmentation and coalescing (JavaScript
//                      sums 32-bit words; the copy is a native memcpy).
//   flow hash          innerFlowHash of one segment; per frame. Baseline:
//                      copying its 66 header bytes.
//
// Method as in index.ts: warm-up rounds discarded, then the median of the
// timed rounds, ours and the baseline alternating, each round long enough
// (about 10-20 ms) to ride over scheduler slices. Both CPU time
// (process.cpuUsage) and wall time (process.hrtime.bigint) are taken; the
// ratio is of CPU times, which a machine shared with other work inflates far
// less than wall time (time spent waiting for a core is not counted).
import {
  PackedSlots,
  StridedSlots,
  TcpCoalescer,
  VirtioNetHeader,
  innerFlowHash,
  internetChecksum,
  segmentSuperFrame,
} from '../src/index.js';

const MSS = 1448;
const SEGMENTS = 45;
const HEADROOM = 8;
const ETH = 14;
const IP = 20;
const TCP = 32; // with timestamps
const HEADERS = ETH + IP + TCP;
const SUPER_FRAME = HEADERS + SEGMENTS * MSS;
const WARMUP_ROUNDS = 3;

export interface OffloadResult {
  name: string;
  unit: string;
  /** Median wall-clock time per unit. */
  oursNs: number;
  copyNs: number;
  /** Median CPU time per unit (what a loaded, shared machine distorts least). */
  oursCpuNs: number;
  copyCpuNs: number;
  /** oursCpuNs / copyCpuNs. */
  ratio: number;
}

/** A TAP's super-frame and its virtio-net header, built by hand (checksum field left as the partial sum does not matter). */
function superFrame(): { frame: Buffer; header: VirtioNetHeader } {
  const f = Buffer.alloc(SUPER_FRAME);
  f.writeUIntBE(0x020000000b0b, 0, 6);
  f.writeUIntBE(0x020000000a0a, 6, 6);
  f.writeUInt16BE(0x0800, 12);
  f[ETH] = 0x45;
  f.writeUInt16BE(SUPER_FRAME - ETH, ETH + 2);
  f[ETH + 6] = 0x40;
  f[ETH + 8] = 64;
  f[ETH + 9] = 6;
  f.writeUInt32BE(0xc633640a, ETH + 12);
  f.writeUInt32BE(0xc633640b, ETH + 16);
  const t = ETH + IP;
  f.writeUInt16BE(40000, t);
  f.writeUInt16BE(5201, t + 2);
  f.writeUInt32BE(1000, t + 4);
  f.writeUInt32BE(5000, t + 8);
  f[t + 12] = (TCP / 4) << 4;
  f[t + 13] = 0x18;
  f.writeUInt16BE(502, t + 14);
  f.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], t + 20);
  for (let i = HEADERS; i < SUPER_FRAME; i++) f[i] = (i * 31) & 0xff;
  const header = new VirtioNetHeader();
  Object.assign(header, { flags: 1, gsoType: 1, hdrLen: HEADERS, gsoSize: MSS, csumStart: ETH + IP, csumOffset: 16 });
  return { frame: f, header };
}

/** Sink for results so the optimiser cannot drop the work (xor keeps it a small integer: no boxing). */
let sink = 0;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** CPU time of this process in nanoseconds (user + system). */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function measure(
  name: string,
  unit: string,
  rounds: number,
  perRound: number,
  ours: () => void,
  copy: () => void,
): OffloadResult {
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
    // Alternate the two so drift on a shared machine hits both alike.
    [ours, copy].forEach((run, k) => {
      const c = cpuNs();
      const t = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) run();
      if (r < WARMUP_ROUNDS) return;
      wall[k].push(Number(process.hrtime.bigint() - t) / perRound);
      cpu[k].push((cpuNs() - c) / perRound);
    });
  }
  const oursCpuNs = median(cpu[0]);
  const copyCpuNs = median(cpu[1]);
  return {
    name,
    unit,
    oursNs: median(wall[0]),
    copyNs: median(wall[1]),
    oursCpuNs,
    copyCpuNs,
    ratio: oursCpuNs / copyCpuNs,
  };
}

export function runOffloadBench(rounds: number): OffloadResult[] {
  const { frame, header } = superFrame();
  const results: OffloadResult[] = [];
  const copyTarget = Buffer.alloc(SUPER_FRAME + 64);
  const copySuperFrame = () => {
    frame.copy(copyTarget, 0, 0, SUPER_FRAME);
    sink ^= copyTarget[100];
  };

  // In place: the pristine super-frame sits at the end of the same buffer and
  // is restored with copyWithin before each cut (that restore is counted: it
  // is one more copy of the bytes, so the ratio is, if anything, pessimistic).
  const room = HEADROOM + SEGMENTS * (HEADROOM + HEADERS + MSS);
  const inPlace = Buffer.alloc(room + SUPER_FRAME);
  frame.copy(inPlace, room);
  const packed = new PackedSlots();
  results.push(
    measure(
      'segment in place, 64 KiB → 45 × 1514 B',
      'super-frame',
      rounds,
      400,
      () => {
        inPlace.copyWithin(HEADROOM, room, room + SUPER_FRAME);
        packed.aim(inPlace, 0, room);
        sink ^= segmentSuperFrame(inPlace, HEADROOM, SUPER_FRAME, header, packed, HEADROOM) as number;
      },
      copySuperFrame,
    ),
  );

  const slotsBuffer = Buffer.alloc(64 * 2048);
  const strided = new StridedSlots(64);
  results.push(
    measure(
      'segment to slots, 64 KiB → 45 × 1514 B',
      'super-frame',
      rounds,
      400,
      () => {
        strided.aim(slotsBuffer, 0, 2048, 64);
        sink ^= segmentSuperFrame(frame, 0, SUPER_FRAME, header, strided, HEADROOM) as number;
      },
      copySuperFrame,
    ),
  );

  // The segments, as a receive batch would hold them.
  strided.aim(slotsBuffer, 0, 2048, 64);
  segmentSuperFrame(frame, 0, SUPER_FRAME, header, strided, 0);
  const lengths = Array.from(strided.lengths.subarray(0, SEGMENTS));
  const coalescer = new TcpCoalescer({ maxFrames: 64 });
  const out = {
    frame: () => void (sink ^= 1),
    superFrame: (_i: number, _b: Uint8Array, _o: number, length: number) => void (sink ^= length),
  };
  const oneFrame = Buffer.alloc(2048);
  results.push(
    measure(
      'coalesce 45 × 1514 B → 64 KiB',
      'segment',
      rounds,
      200,
      () => {
        for (let i = 0; i < SEGMENTS; i++) coalescer.push(slotsBuffer, i * 2048, lengths[i], 1, i);
        coalescer.flush(out);
      },
      () => {
        for (let i = 0; i < SEGMENTS; i++) slotsBuffer.copy(oneFrame, 0, i * 2048, i * 2048 + lengths[i]);
      },
    ),
  );
  const coalesced = results[results.length - 1];
  coalesced.oursNs /= SEGMENTS;
  coalesced.copyNs /= SEGMENTS;
  coalesced.oursCpuNs /= SEGMENTS;
  coalesced.copyCpuNs /= SEGMENTS;

  results.push(
    measure(
      'checksum 64 KiB',
      'super-frame',
      rounds,
      1000,
      () => {
        sink ^= internetChecksum(frame, 0, SUPER_FRAME);
      },
      copySuperFrame,
    ),
  );

  results.push(
    measure(
      'innerFlowHash',
      'frame',
      rounds,
      200000,
      () => {
        sink ^= innerFlowHash(slotsBuffer, 0, lengths[0]);
      },
      () => {
        slotsBuffer.copy(oneFrame, 0, 0, HEADERS);
      },
    ),
  );
  if (sink === Number.MIN_SAFE_INTEGER) console.log('');
  return results;
}

export function printOffloadResults(results: OffloadResult[], rounds: number): void {
  console.log(
    `\nwire: offloads vs Buffer.copy of the same bytes (median of ${rounds} rounds; CPU time, wall time in brackets)`,
  );
  console.log(
    `${'what'.padEnd(40)} ${'per'.padEnd(12)} ${'ours'.padStart(22)} ${'Buffer.copy'.padStart(22)} ${'ratio'.padStart(7)}`,
  );
  for (const r of results) {
    const ours = `${fmt(r.oursCpuNs)} (${fmt(r.oursNs)})`;
    const copy = `${fmt(r.copyCpuNs)} (${fmt(r.copyNs)})`;
    console.log(
      `${r.name.padEnd(40)} ${r.unit.padEnd(12)} ${ours.padStart(22)} ${copy.padStart(22)} ${`${r.ratio.toFixed(2)}x`.padStart(7)}`,
    );
  }
}

function fmt(ns: number): string {
  return ns >= 10000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}
