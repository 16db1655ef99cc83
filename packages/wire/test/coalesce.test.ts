// Coalescing: what merges, what passes unchanged, in which order; and the
// round trip with segmentation (segments in, one super-frame out, which
// segmented again gives back exactly the segments that went in).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  COALESCE_FULL,
  COALESCE_MERGED,
  COALESCE_OWN,
  OffloadOptionsError,
  StridedSlots,
  TcpCoalescer,
  type TcpCoalescerOptions,
  buildArpRequest,
  completePartialChecksum,
  decodeVirtioNetHeader,
  segmentSuperFrame,
} from '../src/index.js';
import {
  type TcpFrameSpec,
  TYPICAL_OPTIONS,
  buildSuperFrame,
  buildTcpFrame,
  patternPayload,
  readFrame,
  timestampOptions,
} from '../src/testing/index.js';

type Output =
  { kind: 'frame'; index: number } | { kind: 'super'; index: number; header: Buffer; frame: Buffer; segments: number };

/** Pushes frames (context 1 unless given) and flushes; returns what came out, in order. */
function coalesce(frames: Buffer[], options: TcpCoalescerOptions = {}, contexts?: number[]): Output[] {
  const co = new TcpCoalescer(options);
  frames.forEach((f, i) => assert.notEqual(co.push(f, 0, f.length, contexts?.[i] ?? 1, i), COALESCE_FULL));
  return drain(co);
}

function drain(co: TcpCoalescer): Output[] {
  const out: Output[] = [];
  const h = co.headerLength;
  co.flush({
    frame: (index) => out.push({ kind: 'frame', index }),
    superFrame: (index, buf, off, length, segments) =>
      out.push({
        kind: 'super',
        index,
        header: Buffer.from(buf.subarray(off, off + h)),
        frame: Buffer.from(buf.subarray(off + h, off + length)),
        segments,
      }),
  });
  return out;
}

/** Segments a super-frame built from `spec` into frames, as a peer's segmentation would. */
function segmentsOf(spec: TcpFrameSpec, gsoSize: number): Buffer[] {
  const { frame, header } = buildSuperFrame(spec, gsoSize);
  return resegment(frame, header);
}

function resegment(frame: Buffer, header: Parameters<typeof segmentSuperFrame>[3]): Buffer[] {
  const out = Buffer.alloc(128 * 2048);
  const slots = new StridedSlots(128);
  slots.aim(out, 0, 2048, 128);
  const n = segmentSuperFrame(frame, 0, frame.length, header, slots, 0);
  assert.equal(typeof n, 'number', `segmentation refused: ${String(n)}`);
  const segments: Buffer[] = [];
  for (let i = 0; i < (n as number); i++)
    segments.push(Buffer.from(out.subarray(i * 2048, i * 2048 + slots.lengths[i])));
  return segments;
}

/** The segments a super-frame output stands for: its header decoded, then segmented again. */
function unpack(o: Output & { kind: 'super' }): Buffer[] {
  const h = decodeVirtioNetHeader(Buffer.concat([o.header, o.frame]), 0, o.header.length + o.frame.length);
  assert.ok(h.ok, `the super-frame's virtio-net header decodes (${!h.ok && h.reason})`);
  return resegment(o.frame, h);
}

const shape = (out: Output[]): string[] =>
  out.map((o) => (o.kind === 'frame' ? `${o.index}` : `${o.index}+${o.segments - 1}`));

describe('TcpCoalescer', () => {
  it('merges in-order segments into one super-frame with the header a TAP takes', () => {
    const spec: TcpFrameSpec = { version: 4, payload: patternPayload(10000), flags: 0x18, options: TYPICAL_OPTIONS };
    const segments = segmentsOf(spec, 1448);
    const out = coalesce(segments);
    assert.deepEqual(shape(out), ['0+6']);
    const s = out[0] as Output & { kind: 'super' };
    // NEEDS_CSUM, GSO_TCPV4, hdr_len 74 (14+20+40), gso_size 1448, csum_start 34, csum_offset 16.
    assert.deepEqual(s.header, Buffer.from([1, 1, 74, 0, 0xa8, 0x05, 34, 0, 16, 0]));
    const r = readFrame(s.frame);
    assert.ok(r.ipChecksumOk, 'IPv4 header checksum recomputed');
    assert.equal(r.ipLength + 14, s.frame.length);
    assert.equal(r.seq, 1000);
    assert.equal(r.flags, 0x18, 'PSH of the last segment carried');
    assert.deepEqual(s.frame.subarray(r.payloadOffset), spec.payload);
    // The field holds the pseudo-header sum: finishing it as the kernel would gives a valid checksum.
    assert.equal(r.l4ChecksumOk, false);
    const finished = Buffer.from(s.frame);
    assert.ok(completePartialChecksum(finished, 0, finished.length, { flags: 1, csumStart: 34, csumOffset: 16 }) > 0);
    assert.ok(readFrame(finished).l4ChecksumOk);
    assert.deepEqual(unpack(s), segments, 'segmented again: the same segments, byte for byte');
  });

  it('merges IPv6 (tagged, with timestamps) the same way', () => {
    const spec: TcpFrameSpec = { version: 6, vlan: 42, payload: patternPayload(6000), options: timestampOptions(9) };
    const segments = segmentsOf(spec, 1400);
    const out = coalesce(segments, { headerLength: 12 });
    assert.deepEqual(shape(out), ['0+4']);
    const s = out[0] as Output & { kind: 'super' };
    assert.equal(s.header.length, 12);
    assert.deepEqual([s.header[0], s.header[1], s.header.readUInt16LE(6)], [1, 4, 18 + 40]);
    assert.deepEqual(unpack(s), segments);
  });

  it('tells the caller what became of each frame', () => {
    const segments = segmentsOf({ version: 4, payload: patternPayload(3000) }, 1000);
    const co = new TcpCoalescer();
    assert.deepEqual(
      segments.map((f, i) => co.push(f, 0, f.length, 1, i)),
      [COALESCE_OWN, COALESCE_MERGED, COALESCE_MERGED],
    );
    assert.equal(co.pending, 3);
    assert.deepEqual(shape(drain(co)), ['0+2']);
    assert.equal(co.pending, 0);
    assert.deepEqual(co.stats, { pushed: 3, merged: 2, superFrames: 1, badChecksums: 0 });
  });

  it('does not merge out-of-order segments, and keeps push order', () => {
    const s = segmentsOf({ version: 4, payload: patternPayload(5 * 1000) }, 1000);
    const out = coalesce([s[0], s[1], s[3], s[2], s[4]]);
    assert.deepEqual(shape(out), ['0+1', '2', '3', '4']);
    const dup = coalesce([s[0], s[1], s[1], s[2]]);
    assert.deepEqual(shape(dup), ['0+1', '2+1'], 'a retransmitted segment starts over');
  });

  it('ends a run with the shorter last segment', () => {
    const a = segmentsOf({ version: 4, payload: patternPayload(2500) }, 1000); // 1000, 1000, 500
    const b = segmentsOf({ version: 4, payload: patternPayload(2000), seq: 1000 + 2500 }, 1000);
    assert.deepEqual(shape(coalesce([...a, ...b])), ['0+2', '3+1']);
  });

  it('carries PSH and FIN on the last frame of a run and ends the run there', () => {
    const s = segmentsOf({ version: 4, payload: patternPayload(4000), flags: 0x19 }, 1000);
    const out = coalesce(s);
    assert.deepEqual(shape(out), ['0+3']);
    assert.equal(readFrame((out[0] as Output & { kind: 'super' }).frame).flags, 0x19);
    // A PSH in the middle: the run ends there, the rest starts anew.
    const mid = segmentsOf({ version: 4, payload: patternPayload(4000) }, 1000);
    const pushed = buildTcpFrame({ version: 4, payload: mid[1].subarray(54), seq: 2000, flags: 0x18 });
    assert.deepEqual(shape(coalesce([mid[0], pushed, mid[2], mid[3]])), ['0+1', '2+1']);
    // A first frame with PSH (or FIN) stands alone.
    const first = buildTcpFrame({ version: 4, payload: mid[0].subarray(54), seq: 1000, flags: 0x18 });
    assert.deepEqual(shape(coalesce([first, mid[1], mid[2]])), ['0', '1+1']);
  });

  it('lets CWR through on its own and merges what follows', () => {
    const s = segmentsOf({ version: 4, payload: patternPayload(4000), flags: 0x90 }, 1000);
    assert.deepEqual(shape(coalesce(s)), ['0', '1+2']);
  });

  it('does not merge frames whose headers differ', () => {
    const base: TcpFrameSpec = { version: 4, payload: patternPayload(1000), options: timestampOptions(1) };
    const first = buildTcpFrame(base);
    const next = (over: Partial<TcpFrameSpec>) => buildTcpFrame({ ...base, seq: 2000, ...over });
    const cases: [string, Buffer][] = [
      ['a newer timestamp', next({ options: timestampOptions(2) })],
      ['no options', next({ options: undefined })],
      ['another TTL', next({ ttl: 63 })],
      ['another TOS', next({ tos: 4 })],
      ['another ACK number', next({ ack: 6000 })],
      ['another window', next({ window: 600 })],
      ['ECE set', next({ flags: 0x50 })],
      ['another source port', next({ srcPort: 40001 })],
      ['another destination MAC', next({ dstMac: 0x02000000cccc })],
      ['a larger payload', next({ payload: patternPayload(1001) })],
      ['no payload (a pure ACK)', next({ payload: new Uint8Array(0) })],
    ];
    for (const [what, frame] of cases) assert.deepEqual(shape(coalesce([first, frame])), ['0', '1'], what);
    assert.deepEqual(shape(coalesce([first, next({})])), ['0+1'], 'the control: same headers merge');
    assert.deepEqual(shape(coalesce([first, next({})], {}, [1, 2])), ['0', '1'], 'another context');
  });

  it('does not merge a frame whose checksum fails, nor onto a first frame whose checksum fails', () => {
    const s = segmentsOf({ version: 4, payload: patternPayload(3000) }, 1000);
    const damaged = Buffer.from(s[1]);
    damaged[100] ^= 0x01;
    const co = new TcpCoalescer();
    [s[0], damaged, s[2]].forEach((f, i) => co.push(f, 0, f.length, 1, i));
    assert.deepEqual(shape(drain(co)), ['0', '1', '2']);
    assert.equal(co.stats.badChecksums, 1);
    const head = Buffer.from(s[0]);
    head[200] ^= 0x80;
    assert.deepEqual(shape(coalesce([head, s[1], s[2]])), ['0', '1+1']);
    const badIp = Buffer.from(s[1]);
    badIp[14 + 5] ^= 0x01; // the IP id, which need not match, without fixing the IPv4 header checksum
    assert.deepEqual(shape(coalesce([s[0], badIp, s[2]])), ['0', '1', '2']);
  });

  it('coalesces interleaved flows separately and hands other frames through in place', () => {
    const a = segmentsOf({ version: 4, payload: patternPayload(3000), srcPort: 1111 }, 1000);
    const b = segmentsOf({ version: 6, payload: patternPayload(3000), srcPort: 2222 }, 1000);
    const arp = buildArpRequest(0x020000000001, 0xc0000201, 0xc0000202);
    const out = coalesce([a[0], b[0], arp, a[1], b[1], a[2], b[2]]);
    assert.deepEqual(shape(out), ['0+2', '1+2', '2']);
    const [sa, sb] = out as (Output & { kind: 'super' })[];
    assert.deepEqual(unpack(sa), a);
    assert.deepEqual(unpack(sb), b);
  });

  it('keeps a super-frame within maxIpLength (64 KiB by default)', () => {
    // 50 segments in a row, from two super-frames (one IPv4 packet holds at most 65535 bytes).
    const s = [
      ...segmentsOf({ version: 4, payload: patternPayload(40 * 1448) }, 1448),
      ...segmentsOf({ version: 4, payload: patternPayload(10 * 1448), seq: 1000 + 40 * 1448 }, 1448),
    ];
    // (65535 - 20 - 20) / 1448 = 45 segments fit in one IPv4 packet.
    assert.deepEqual(shape(coalesce(s)), ['0+44', '45+4']);
    // (9000 - 40) / 1448 = 6 per super-frame; 9 super-frames need 9 buffers.
    assert.deepEqual(shape(coalesce(s, { maxIpLength: 9000, maxSuperFrames: 9 })), [
      ...[0, 6, 12, 18, 24, 30, 36, 42].map((i) => `${i}+5`),
      '48+1',
    ]);
  });

  it('stays within its flow table and buffers, and still delivers every frame', () => {
    const flows = [1, 2, 3].map((p) => segmentsOf({ version: 4, payload: patternPayload(3000), srcPort: p }, 1000));
    const interleaved = [0, 1, 2].flatMap((i) => flows.map((f) => f[i]));
    assert.deepEqual(shape(coalesce(interleaved)), ['0+2', '1+2', '2+2']);
    // Two open runs at most: the third flow evicts the least recently extended one each time.
    const twoFlows = coalesce(interleaved, { maxFlows: 2 });
    assert.equal(countFrames(twoFlows), 9);
    assert.ok(twoFlows.length > 3);
    // One super-frame buffer: only the first flow merges.
    assert.deepEqual(shape(coalesce(interleaved, { maxSuperFrames: 1 })), ['0+2', '1', '2', '4', '5', '7', '8']);
    // maxFrames: the fourth frame that would stand on its own is refused until a flush.
    const co = new TcpCoalescer({ maxFrames: 3 });
    const arp = buildArpRequest(1, 2, 3);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => co.push(arp, 0, arp.length, 1, i)),
      [COALESCE_OWN, COALESCE_OWN, COALESCE_OWN, COALESCE_FULL],
    );
    assert.deepEqual(shape(drain(co)), ['0', '1', '2']);
  });

  it('refuses bad options with a named error and code', () => {
    const bad: [TcpCoalescerOptions, string][] = [
      [{ maxFrames: 0 }, 'maxFrames'],
      [{ maxFlows: 1.5 }, 'maxFlows'],
      [{ maxSuperFrames: 0 }, 'maxSuperFrames'],
      [{ headerLength: 11 }, 'headerLength'],
      [{ maxIpLength: 70000 }, 'maxIpLength'],
      [{ maxSuperFrames: 2, storage: new Uint8Array(1000) }, 'storage'],
    ];
    for (const [options, field] of bad) {
      assert.throws(
        () => new TcpCoalescer(options),
        (e: unknown) =>
          e instanceof OffloadOptionsError && e.code === 'DVS_OFFLOAD_OPTIONS_INVALID' && e.field === field,
        field,
      );
    }
  });

  it('builds super-frames in storage the caller gives (e.g. beside its receive batch)', () => {
    const shared = new Uint8Array(2 * (10 + 18 + 65535) + 64 * 2048);
    const storage = shared.subarray(64 * 2048);
    const batch = Buffer.from(shared.buffer, 0, 64 * 2048);
    const s = segmentsOf({ version: 4, payload: patternPayload(5000) }, 1000);
    s.forEach((f, i) => f.copy(batch, i * 2048));
    const co = new TcpCoalescer({ maxSuperFrames: 2, storage });
    s.forEach((f, i) => co.push(batch, i * 2048, f.length, 7, i));
    const out = drain(co);
    assert.deepEqual(shape(out), ['0+4']);
    assert.deepEqual(unpack(out[0] as Output & { kind: 'super' }), s);
  });
});

describe('segmentation and coalescing together', () => {
  const specs = fc.record({
    version: fc.constantFrom(4 as const, 6 as const),
    vlan: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
    options: fc.constantFrom(undefined, TYPICAL_OPTIONS, timestampOptions(0x01020304)),
    payloadLength: fc.integer({ min: 1, max: 30000 }),
    gsoSize: fc.integer({ min: 536, max: 1460 }),
    seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    id: fc.integer({ min: 0, max: 0xffff }),
    extraFlags: fc.constantFrom(0, 0x08, 0x01, 0x09, 0x80, 0x40, 0x88),
  });

  it('round trip: segments coalesce into super-frames that segment back into the same segments', () => {
    fc.assert(
      fc.property(specs, (p) => {
        const payload = patternPayload(p.payloadLength, p.seq & 0xff);
        const spec: TcpFrameSpec = { ...p, payload, flags: 0x10 | p.extraFlags };
        const segments = segmentsOf(spec, p.gsoSize);
        const out = coalesce(segments);
        // Everything came out, in order, and the frames it stands for are the segments that went in.
        const back: Buffer[] = out.flatMap((o) => (o.kind === 'frame' ? [segments[o.index]] : unpack(o)));
        assert.deepEqual(back, segments);
        // CWR passes alone; everything else that can merge did.
        const cwr = (p.extraFlags & 0x80) !== 0;
        const expected =
          segments.length === 1
            ? ['0']
            : cwr
              ? ['0', ...(segments.length === 2 ? ['1'] : [`1+${segments.length - 2}`])]
              : [`0+${segments.length - 1}`];
        assert.deepEqual(shape(out), expected);
        for (const o of out) {
          if (o.kind !== 'super') continue;
          const r = readFrame(o.frame);
          assert.ok(r.ipChecksumOk);
          assert.equal(o.header.readUInt16LE(4), p.gsoSize, 'gso_size is the segments’ payload size');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('shuffled segments: only neighbours in sequence merge, and every byte comes out in push order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom(4 as const, 6 as const),
        (count, seed, version) => {
          const segments = segmentsOf({ version, payload: patternPayload(count * 700 - 300) }, 700);
          const order = shuffle(
            segments.map((_, i) => i),
            seed,
          );
          const pushed = order.map((i) => segments[i]);
          const out = coalesce(pushed);
          const back = out.flatMap((o) => (o.kind === 'frame' ? [pushed[o.index]] : unpack(o)));
          assert.deepEqual(back, pushed, 'push order kept, nothing lost or doubled');
          let neighbours = 0;
          for (let i = 0; i + 1 < order.length; i++) if (order[i + 1] === order[i] + 1) neighbours++;
          assert.equal(countFrames(out) - out.length, neighbours, 'merges = neighbours in sequence');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('several flows, other frames and losses, small tables: each flow’s bytes come out in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (picks, maxFlows, maxSuperFrames) => {
          const flows = [0, 1, 2].map((f) =>
            segmentsOf({ version: f === 1 ? 6 : 4, payload: patternPayload(60 * 500, f), srcPort: 1000 + f }, 500),
          );
          const next = [0, 0, 0];
          const arp = buildArpRequest(5, 6, 7);
          const pushed: Buffer[] = [];
          for (const pick of picks) {
            if (pick === 3) pushed.push(arp);
            else if (pick === 4)
              next[pushed.length % 3]++; // a lost segment
            else if (next[pick] < 60) pushed.push(flows[pick][next[pick]++]);
          }
          const out = coalesce(pushed, { maxFlows, maxSuperFrames });
          const back = out.flatMap((o) => (o.kind === 'frame' ? [pushed[o.index]] : unpack(o)));
          for (const flow of ['arp', 1000, 1001, 1002]) {
            const of = (frames: Buffer[]) => frames.filter((f) => flowOf(f) === flow);
            assert.deepEqual(of(back), of(pushed), `flow ${flow}: every frame, in push order`);
          }
          assert.equal(back.length, pushed.length);
          const firsts = out.map((o) => o.index);
          assert.deepEqual(
            firsts,
            [...firsts].sort((x, y) => x - y),
            'outputs stand at their first frame’s place',
          );
          assert.ok(out.filter((o) => o.kind === 'super').length <= maxSuperFrames);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** 'arp', or the TCP source port. */
function flowOf(frame: Buffer): string | number {
  if (frame.readUInt16BE(12) === 0x0806) return 'arp';
  return frame.readUInt16BE(readFrame(frame).l4);
}

function countFrames(out: Output[]): number {
  return out.reduce((n, o) => n + (o.kind === 'frame' ? 1 : o.segments), 0);
}

function shuffle(values: number[], seed: number): number[] {
  let s = seed >>> 0 || 1;
  for (let i = values.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}
