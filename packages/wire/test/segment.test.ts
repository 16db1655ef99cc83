// Segmentation, checked against tcp-frames.ts's own reading of every
// segment: checksums recomputed from scratch, lengths, sequence numbers, IP
// ids and flags; the payloads put back together must be the original.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PackedSlots,
  type SegmentDropReason,
  StridedSlots,
  completePartialChecksum,
  segmentSuperFrame,
} from '../src/index.js';
import {
  type TcpFrameSpec,
  TYPICAL_OPTIONS,
  buildSuperFrame,
  buildTcpFrame,
  patternPayload,
  readFrame,
  referenceChecksum,
  timestampOptions,
} from '../src/testing/index.js';

const SLOT = 2048;
const HEADROOM = 8;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_CWR = 0x80;

/** Segments into fresh 2 KiB slots at headroom 8; returns the segments (copied out) or the reason. */
function segment(spec: TcpFrameSpec, gsoSize: number, slotCount = 64): Buffer[] | SegmentDropReason {
  const { frame, header } = buildSuperFrame(spec, gsoSize);
  const out = Buffer.alloc(slotCount * SLOT, 0xee);
  const slots = new StridedSlots(slotCount);
  slots.aim(out, 0, SLOT, slotCount);
  const n = segmentSuperFrame(frame, 0, frame.length, header, slots, HEADROOM);
  if (typeof n === 'string') return n;
  const segments: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const start = i * SLOT;
    assert.ok(
      out.subarray(start, start + HEADROOM).every((b) => b === 0xee),
      `segment ${i}: headroom left untouched`,
    );
    segments.push(Buffer.from(out.subarray(start + HEADROOM, start + HEADROOM + slots.lengths[i])));
  }
  return segments;
}

/** Asserts what every correct segmentation of `spec` at `gsoSize` must satisfy. */
function checkSegments(spec: TcpFrameSpec, gsoSize: number, segments: Buffer[]): void {
  const payload = spec.payload;
  assert.equal(segments.length, Math.ceil(payload.length / gsoSize));
  const original = buildTcpFrame(spec);
  const o = readFrame(original);
  const pieces: Buffer[] = [];
  segments.forEach((s, i) => {
    const r = readFrame(s);
    const last = i === segments.length - 1;
    assert.ok(r.ipChecksumOk, `segment ${i}: IPv4 header checksum`);
    assert.ok(r.l4ChecksumOk, `segment ${i}: transport checksum`);
    assert.equal(r.ipLength + r.l2, s.length, `segment ${i}: IP length covers the frame`);
    assert.equal(r.payloadLength, last ? payload.length - i * gsoSize : gsoSize, `segment ${i}: payload`);
    pieces.push(s.subarray(r.payloadOffset));
    if (spec.version === 4) assert.equal(r.id, ((spec.id ?? 0x1234) + i) & 0xffff, `segment ${i}: IP id`);
    if (spec.udp) return;
    assert.equal(r.seq, ((spec.seq ?? 1000) + i * gsoSize) % 2 ** 32, `segment ${i}: seq`);
    let flags = spec.flags ?? TCP_ACK;
    if (!last) flags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) flags &= ~TCP_CWR;
    assert.equal(r.flags, flags, `segment ${i}: flags`);
    // Options, ports, ack, window: copied unchanged.
    assert.deepEqual(s.subarray(r.l4, r.l4 + 4), original.subarray(o.l4, o.l4 + 4));
    assert.deepEqual(s.subarray(r.l4 + 8, r.l4 + 12), original.subarray(o.l4 + 8, o.l4 + 12), 'ack');
    assert.deepEqual(s.subarray(r.l4 + 14, r.l4 + 16), original.subarray(o.l4 + 14, o.l4 + 16), 'window');
    assert.deepEqual(s.subarray(r.l4 + 20, r.payloadOffset), original.subarray(o.l4 + 20, o.payloadOffset));
  });
  assert.deepEqual(Buffer.concat(pieces), Buffer.from(payload), 'payloads put together');
}

/** Headers up to the transport, with the fields segmentation rewrites zeroed out (for comparison). */
function stableHeaders(frame: Buffer): Buffer {
  const r = readFrame(frame);
  const h = Buffer.from(frame.subarray(0, r.l4));
  if (r.version === 4) h.fill(0, r.l2 + 2, r.l2 + 6).fill(0, r.l2 + 10, r.l2 + 12);
  else h.fill(0, r.l2 + 4, r.l2 + 6);
  return h;
}

describe('segmentSuperFrame', () => {
  const cases: [string, TcpFrameSpec, number][] = [
    ['IPv4, 10000 bytes at MSS 1448, PSH', { version: 4, payload: patternPayload(10000), flags: 0x18 }, 1448],
    ['IPv6, 802.1Q tag, 64 KiB - headers', { version: 6, vlan: 100, payload: patternPayload(65000) }, 1428],
    ['IPv4, MSS/SACK/timestamp options', { version: 4, payload: patternPayload(7000), options: TYPICAL_OPTIONS }, 1000],
    [
      'IPv6, timestamps, FIN+PSH',
      { version: 6, payload: patternPayload(4000), options: timestampOptions(7), flags: 0x19 },
      1436,
    ],
    ['IPv4, CWR and ECE (ECN)', { version: 4, payload: patternPayload(3000), flags: 0xd0 }, 1000],
    ['IPv4, an exact multiple of gso_size', { version: 4, payload: patternPayload(3 * 1200) }, 1200],
    ['IPv4, one byte less than the gso size', { version: 4, payload: patternPayload(99) }, 100],
    ['IPv4, seq wrapping past 2^32', { version: 4, payload: patternPayload(5000), seq: 2 ** 32 - 2000 }, 1448],
    ['IPv4, IP id wrapping past 0xffff', { version: 4, payload: patternPayload(5000), id: 0xfffe }, 1448],
    ['IPv4, gso_size 1', { version: 4, payload: patternPayload(40) }, 1],
    ['UDP over IPv4 (USO)', { version: 4, payload: patternPayload(5000), udp: true }, 1400],
    ['UDP over IPv6 (USO), tagged', { version: 6, vlan: 7, payload: patternPayload(3000), udp: true }, 1232],
  ];
  for (const [what, spec, gsoSize] of cases) {
    it(`${what}: correct segments, checksums verified from scratch`, () => {
      const segments = segment(spec, gsoSize);
      assert.ok(Array.isArray(segments), `refused: ${String(segments)}`);
      checkSegments(spec, gsoSize, segments);
      const reference = stableHeaders(buildTcpFrame(spec));
      for (const s of segments) assert.deepEqual(stableHeaders(s), reference, 'Ethernet and IP headers copied');
    });
  }

  it('puts FIN and PSH on the last segment only, CWR on the first only', () => {
    const segments = segment({ version: 4, payload: patternPayload(5000), flags: 0x80 | 0x10 | 0x08 | 0x01 }, 1448);
    assert.ok(Array.isArray(segments));
    assert.deepEqual(
      segments.map((s) => readFrame(s).flags),
      [0x90, 0x10, 0x10, 0x19],
    );
  });

  it('segments in place into the back-to-back layout one UDP GSO send takes', () => {
    const spec: TcpFrameSpec = { version: 4, payload: patternPayload(20000), options: timestampOptions(1) };
    const expected = segment(spec, 1448);
    assert.ok(Array.isArray(expected));
    const { frame, header } = buildSuperFrame(spec, 1448);
    const room = HEADROOM + frame.length + expected.length * (HEADROOM + 66) + 100;
    const buf = Buffer.alloc(room + 32, 0xee);
    const at = 16 + HEADROOM;
    frame.copy(buf, at);
    const packed = new PackedSlots();
    packed.aim(buf, at - HEADROOM, buf.length - 16, 64);
    assert.equal(segmentSuperFrame(buf, at, frame.length, header, packed, HEADROOM), expected.length);
    assert.equal(packed.stride, HEADROOM + 66 + 1448);
    assert.equal(packed.count, expected.length);
    assert.equal(packed.totalLength, (expected.length - 1) * packed.stride + HEADROOM + expected.at(-1)!.length);
    expected.forEach((e, i) => {
      const start = at - HEADROOM + i * packed.stride + HEADROOM;
      assert.deepEqual(buf.subarray(start, start + e.length), e, `segment ${i} in place = segment ${i} copied out`);
    });
    assert.ok(
      buf.subarray(0, 16).every((b) => b === 0xee),
      'nothing before the headroom touched',
    );
  });

  it('segments from one ArrayBuffer into slots of another, and of the same one', () => {
    const spec: TcpFrameSpec = { version: 6, payload: patternPayload(9000) };
    const expected = segment(spec, 1440);
    assert.ok(Array.isArray(expected));
    const { frame, header } = buildSuperFrame(spec, 1440);
    // One ArrayBuffer: the super-frame in front, slots after it.
    const shared = Buffer.alloc(frame.length + 16 * SLOT);
    frame.copy(shared, 0);
    const slots = new StridedSlots(16);
    slots.aim(shared, frame.length, SLOT, 16);
    assert.equal(segmentSuperFrame(shared, 0, frame.length, header, slots, HEADROOM), expected.length);
    expected.forEach((e, i) => {
      const start = frame.length + i * SLOT + HEADROOM;
      assert.deepEqual(shared.subarray(start, start + e.length), e, `segment ${i}`);
    });
    // Slots before the frame in the same ArrayBuffer are fine too.
    const before = Buffer.alloc(16 * SLOT + frame.length);
    frame.copy(before, 16 * SLOT);
    slots.aim(before, 0, SLOT, 16);
    assert.equal(segmentSuperFrame(before, 16 * SLOT, frame.length, header, slots, HEADROOM), expected.length);
    assert.deepEqual(before.subarray(HEADROOM, HEADROOM + expected[0].length), expected[0]);
  });

  const refusals: [
    string,
    () => { frame: Buffer; header: Parameters<typeof segmentSuperFrame>[3] },
    SegmentDropReason,
  ][] = [
    ['gso_type NONE', () => tweak({ version: 4 }, (h) => (h.gsoType = 0)), 'not-gso'],
    ['gso_size 0', () => tweak({ version: 4 }, (h) => (h.gsoSize = 0)), 'not-gso'],
    ['an unknown gso_type', () => tweak({ version: 4 }, (h) => (h.gsoType = 3)), 'gso-type-mismatch'],
    ['TCPV6 on an IPv4 frame', () => tweak({ version: 4 }, (h) => (h.gsoType = 4)), 'gso-type-mismatch'],
    ['TCPV4 on an IPv6 frame', () => tweak({ version: 6 }, (h) => (h.gsoType = 1)), 'gso-type-mismatch'],
    [
      'UDP_L4 on a TCP frame',
      () => tweak({ version: 4 }, (h) => ((h.gsoType = 5), (h.csumOffset = 6))),
      'gso-type-mismatch',
    ],
    ['an ARP frame', () => tweak({ version: 4 }, undefined, (f) => f.writeUInt16BE(0x0806, 12)), 'unsupported-frame'],
    ['a frame one byte longer than its IP packet', () => longer({ version: 4 }), 'ip-length-mismatch'],
    ['an IPv4 fragment', () => tweak({ version: 4 }, undefined, (f) => (f[20] |= 0x20)), 'ip-fragment'],
    [
      'IPv6 with a hop-by-hop header',
      () => tweak({ version: 6 }, undefined, (f) => (f[20] = 0)),
      'ipv6-extension-header',
    ],
    ['csum_start 2 bytes off', () => tweak({ version: 4 }, (h) => (h.csumStart += 2)), 'csum-start-mismatch'],
    [
      'TCP data offset 4',
      () => tweak({ version: 4 }, undefined, (f) => (f[34 + 12] = 0x40)),
      'transport-header-invalid',
    ],
    [
      'TCP data offset past the frame',
      () => tweak({ version: 4, payloadLength: 8 }, undefined, (f) => (f[34 + 12] = 0xf0)),
      'transport-header-invalid',
    ],
    ['no payload', () => tweak({ version: 4, payloadLength: 0 }), 'no-payload'],
  ];
  for (const [what, make, reason] of refusals) {
    it(`refuses ${what} (${reason}) and writes nothing`, () => {
      const { frame, header } = make();
      const before = Buffer.from(frame);
      const out = Buffer.alloc(8 * SLOT, 0xee);
      const slots = new StridedSlots(8);
      slots.aim(out, 0, SLOT, 8);
      assert.equal(segmentSuperFrame(frame, 0, frame.length, header, slots, HEADROOM), reason);
      assert.ok(
        out.every((b) => b === 0xee),
        'slots untouched',
      );
      assert.deepEqual(frame, before, 'super-frame untouched');
    });
  }

  it('refuses when the slots cannot take the segments, and writes nothing', () => {
    const { frame, header } = buildSuperFrame({ version: 4, payload: patternPayload(10000) }, 1448);
    const out = Buffer.alloc(8 * SLOT, 0xee);
    const slots = new StridedSlots(8);
    slots.aim(out, 0, SLOT, 6);
    assert.equal(segmentSuperFrame(frame, 0, frame.length, header, slots, HEADROOM), 'too-many-segments');
    slots.aim(out, 0, 1500, 8);
    assert.equal(segmentSuperFrame(frame, 0, frame.length, header, slots, HEADROOM), 'too-many-segments');
    slots.aim(out.subarray(0, 6 * SLOT + 500), 0, SLOT, 8);
    assert.equal(segmentSuperFrame(frame, 0, frame.length, header, slots, HEADROOM), 'slot-too-small');
    const packed = new PackedSlots();
    packed.aim(out, 0, out.length, 6);
    assert.equal(segmentSuperFrame(frame, 0, frame.length, header, packed, HEADROOM), 'too-many-segments');
    assert.ok(out.every((b) => b === 0xee));
  });

  it('refuses slots in its own ArrayBuffer that would overwrite bytes it has yet to read', () => {
    const { frame, header } = buildSuperFrame({ version: 4, payload: patternPayload(10000) }, 1448);
    const buf = Buffer.alloc(frame.length + 8 * SLOT);
    frame.copy(buf, 4 * SLOT);
    const before = Buffer.from(buf);
    const slots = new StridedSlots(8);
    // Slots from 2 KiB before the frame: slot 1 lands on the frame's headers.
    slots.aim(buf, 3 * SLOT, SLOT, 8);
    assert.equal(segmentSuperFrame(buf, 4 * SLOT, frame.length, header, slots, HEADROOM), 'slot-overlaps-frame');
    // Packed slots from 100 bytes before the frame: segment 0 would straddle the frame's start.
    const packed = new PackedSlots();
    packed.aim(buf, 4 * SLOT - HEADROOM - 100, buf.length);
    assert.equal(segmentSuperFrame(buf, 4 * SLOT, frame.length, header, packed, HEADROOM), 'slot-overlaps-frame');
    assert.deepEqual(buf, before);
  });

  it('ignores a hdr_len larger than the headers (a TAP sets it to the linear bytes it held)', () => {
    const spec: TcpFrameSpec = { version: 4, payload: patternPayload(5000) };
    const { frame, header } = buildSuperFrame(spec, 1448);
    header.hdrLen = 1500;
    const out = Buffer.alloc(8 * SLOT);
    const slots = new StridedSlots(8);
    slots.aim(out, 0, SLOT, 8);
    assert.equal(segmentSuperFrame(frame, 0, frame.length, header, slots, 0), 4);
  });
});

describe('completePartialChecksum (NEEDS_CSUM without GSO)', () => {
  for (const spec of [
    { version: 4, payload: patternPayload(1000) },
    { version: 6, payload: patternPayload(777), options: timestampOptions(3) },
    { version: 4, payload: patternPayload(501), udp: true },
    { version: 6, vlan: 5, payload: patternPayload(64), udp: true },
  ] as TcpFrameSpec[]) {
    it(`finishes the checksum of ${spec.udp ? 'UDP' : 'TCP'} over IPv${spec.version}${spec.vlan ? ', tagged' : ''}`, () => {
      const { frame, header } = buildSuperFrame(spec, 0xffff);
      assert.equal(readFrame(frame).l4ChecksumOk, false, 'a partial checksum does not verify yet');
      const value = completePartialChecksum(frame, 0, frame.length, header);
      assert.ok(value > 0);
      assert.ok(readFrame(frame).l4ChecksumOk);
      assert.deepEqual(frame, buildTcpFrame(spec), 'the same bytes a full computation gives');
    });
  }

  it('stores a computed 0 as 0xffff, as the kernel does', () => {
    const { frame, header } = buildSuperFrame({ version: 4, payload: patternPayload(100), udp: true }, 0xffff);
    const r = readFrame(frame);
    const end = frame.length; // 108 transport bytes: the last two are one aligned word
    frame.writeUInt16BE(0, end - 2);
    const partial = frame.readUInt16BE(r.l4 + 6);
    const withoutField = Buffer.from(frame);
    withoutField.writeUInt16BE(0, r.l4 + 6);
    // Make the last word the complement of everything else: the checksum comes out 0.
    frame.writeUInt16BE(referenceChecksum(withoutField, r.l4, end, partial), end - 2);
    assert.equal(completePartialChecksum(frame, 0, end, header), 0xffff);
    assert.equal(frame.readUInt16BE(r.l4 + 6), 0xffff);
    assert.ok(readFrame(frame).l4ChecksumOk, '0xffff verifies as 0 does');
  });

  it('returns -1 and writes nothing without NEEDS_CSUM or with the field outside the frame', () => {
    const { frame, header } = buildSuperFrame({ version: 4, payload: patternPayload(10) }, 0xffff);
    const before = Buffer.from(frame);
    assert.equal(completePartialChecksum(frame, 0, frame.length, { ...header, flags: 0 }), -1);
    assert.equal(completePartialChecksum(frame, 0, frame.length, { ...header, csumStart: frame.length - 1 }), -1);
    assert.equal(completePartialChecksum(frame, 0, 40, header), -1);
    assert.equal(completePartialChecksum(frame, -1, frame.length, header), -1);
    assert.deepEqual(frame, before);
  });
});

/** A super-frame of 3000 bytes (or `payloadLength`), its header changed by `h`, its bytes by `f`. */
function tweak(
  spec: { version: 4 | 6; payloadLength?: number },
  h?: (header: ReturnType<typeof buildSuperFrame>['header']) => unknown,
  f?: (frame: Buffer) => unknown,
): ReturnType<typeof buildSuperFrame> {
  const built = buildSuperFrame({ version: spec.version, payload: patternPayload(spec.payloadLength ?? 3000) }, 1000);
  h?.(built.header);
  f?.(built.frame);
  return built;
}

function longer(spec: { version: 4 | 6 }): ReturnType<typeof buildSuperFrame> {
  const built = tweak(spec);
  return { frame: Buffer.concat([built.frame, Buffer.alloc(1)]), header: built.header };
}
