// The offload code on random, mutated and truncated input (fuzz-input.ts):
// it never throws, never reads outside the bytes it was given (the bounds
// guard throws on any such read), and what it accepts is valid on its face:
// decoded headers within their frame, segments whose checksums verify from
// scratch, coalescer outputs that account for every frame pushed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COALESCE_MERGED,
  FrameLayout,
  StridedSlots,
  TcpCoalescer,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetHeader,
  buildArpRequest,
  decodeVirtioNetHeader,
  innerFlowHash,
  internetChecksum,
  parseFrameLayout,
  segmentSuperFrame,
  writeVirtioNetHeader,
} from '../src/index.js';
import { type Subject, fuzzSubject } from './fuzz-input.js';
import {
  type TcpFrameSpec,
  buildSuperFrame,
  patternPayload,
  readFrame,
  referenceChecksum,
  timestampOptions,
} from '../src/testing/index.js';

const KNOWN_REASONS = new Set([
  'truncated',
  'unknown-flags',
  'unknown-gso-type',
  'gso-without-csum',
  'gso-size-zero',
  'hdr-len-beyond-frame',
  'csum-out-of-range',
  'csum-offset-mismatch',
]);

/** A virtio-net header and its super-frame, as one TAP read returns them. */
function tapRead(spec: TcpFrameSpec, gsoSize: number): Buffer {
  const { frame, header } = buildSuperFrame(spec, gsoSize);
  const out = Buffer.alloc(VIRTIO_NET_HDR_LENGTH + frame.length);
  writeVirtioNetHeader(out, 0, header);
  frame.copy(out, VIRTIO_NET_HDR_LENGTH);
  return out;
}

const TAP_READS = [
  tapRead({ version: 4, payload: patternPayload(150) }, 50),
  tapRead({ version: 6, vlan: 9, payload: patternPayload(110), options: timestampOptions(5), flags: 0x99 }, 40),
  tapRead({ version: 4, payload: patternPayload(150), udp: true }, 64),
];

const header = new VirtioNetHeader();
const slots = new StridedSlots(256);
const slotBuffer = Buffer.alloc(256 * 256);

/** Segments of a small IPv4 super-frame: [0] is the coalescer's run head, [1] the template. */
const RUN = (() => {
  const { frame, header: h } = buildSuperFrame({ version: 4, payload: patternPayload(120) }, 60);
  slots.aim(slotBuffer, 0, 256, 4);
  segmentSuperFrame(frame, 0, frame.length, h, slots, 0);
  return [0, 1].map((i) => Buffer.from(slotBuffer.subarray(i * 256, i * 256 + slots.lengths[i])));
})();
const coalescer = new TcpCoalescer({ maxFrames: 4, maxSuperFrames: 1 });
let delivered = 0;
const countingSink = {
  frame: () => void delivered++,
  superFrame: (_i: number, _b: Uint8Array, _o: number, _l: number, segments: number) => void (delivered += segments),
};

/** Fixes the IPv4 header and TCP checksums of a mutated IPv4 TCP frame as far as its fields allow. */
function resealTcp4(buf: Buffer, off: number, length: number): void {
  if (length < 54 || buf.readUInt16BE(off + 12) !== 0x0800 || buf[off + 14] !== 0x45) return;
  const ip = off + 14;
  buf.writeUInt16BE(0, ip + 10);
  buf.writeUInt16BE(internetChecksum(buf, ip, 20), ip + 10);
  const l4Length = Math.min(buf.readUInt16BE(ip + 2), length - 14) - 20;
  if (l4Length < 20) return;
  const t = ip + 20;
  buf.writeUInt16BE(0, t + 16);
  let pseudo = 6 + l4Length;
  for (let i = ip + 12; i < ip + 20; i += 2) pseudo += buf.readUInt16BE(i);
  buf.writeUInt16BE(referenceChecksum(buf, t, t + l4Length, pseudo), t + 16);
}

const subjects: Record<string, [Subject, number]> = {
  decodeVirtioNetHeader: [
    {
      templates: TAP_READS,
      check(buf, off, length) {
        const r = decodeVirtioNetHeader(buf, off, length, VIRTIO_NET_HDR_LENGTH, header);
        if (!r.ok) {
          assert.ok(KNOWN_REASONS.has(r.reason), r.reason);
          return false;
        }
        assert.ok(r.frameLength >= 14 && r.frameLength <= length - 10 && r.hdrLen <= r.frameLength);
        assert.equal(r.flags & ~3, 0);
        if (r.flags & 1) assert.ok(r.csumStart >= 14 && r.csumStart + r.csumOffset + 2 <= r.frameLength);
        return true;
      },
    },
    100_000,
  ],
  parseFrameLayout: [
    {
      templates: [...TAP_READS.map((t) => t.subarray(10)), buildArpRequest(1, 2, 3)],
      check(buf, off, length) {
        const layout = new FrameLayout();
        const ok = parseFrameLayout(buf, off, length, layout);
        const h = innerFlowHash(buf, off, length);
        assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
        if (!ok) return false;
        assert.ok(layout.l2Length === 14 || layout.l2Length === 18);
        assert.ok(layout.ipLength >= layout.ipHeaderLength && layout.l2Length + layout.ipLength <= length);
        return true;
      },
    },
    100_000,
  ],
  segmentSuperFrame: [
    {
      templates: TAP_READS,
      check(buf, off, length) {
        const h = decodeVirtioNetHeader(buf, off, length, VIRTIO_NET_HDR_LENGTH, header);
        if (!h.ok) return false;
        slots.aim(slotBuffer, 0, 256, 256);
        const n = segmentSuperFrame(buf, off + 10, h.frameLength, h, slots, 8);
        if (typeof n === 'string') return false;
        for (let i = 0; i < n; i++) {
          const s = slotBuffer.subarray(i * 256 + 8, i * 256 + 8 + slots.lengths[i]);
          const r = readFrame(s);
          assert.ok(r.ipChecksumOk && r.l4ChecksumOk, `segment ${i} of ${n}`);
          assert.equal(r.l2 + r.ipLength, s.length);
          assert.ok(r.payloadLength >= 1 && r.payloadLength <= h.gsoSize);
        }
        return true;
      },
    },
    20_000,
  ],
  'TcpCoalescer.push': [
    {
      templates: [RUN[1]],
      reseal: resealTcp4,
      check(buf, off, length) {
        delivered = 0;
        coalescer.push(RUN[0], 0, RUN[0].length, 1, 0);
        const result = coalescer.push(buf, off, length, 1, 1);
        coalescer.flush(countingSink);
        assert.equal(delivered, 2, 'both frames delivered, merged or not');
        return result === COALESCE_MERGED;
      },
    },
    20_000,
  ],
};

describe('offload code on random, mutated and truncated input', () => {
  for (const [name, [subject, inputs]] of Object.entries(subjects)) {
    it(`${name}: ${inputs} inputs, no throw, no out-of-bounds read, refused or valid`, () => {
      fuzzSubject(name, subject, inputs);
    });
  }

  it('the coalescer fuzz template merges when left alone (the control)', () => {
    coalescer.push(RUN[0], 0, RUN[0].length, 1, 0);
    assert.equal(coalescer.push(RUN[1], 0, RUN[1].length, 1, 1), COALESCE_MERGED);
    coalescer.reset();
  });
});
