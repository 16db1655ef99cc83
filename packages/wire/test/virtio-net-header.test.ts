import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VirtioNetHeader,
  type VirtioNetHeaderDropReason,
  clearVirtioNetHeader,
  decodeVirtioNetHeader,
  isGsoHeader,
  writeVirtioNetHeader,
} from '../src/index.js';
import { hex } from './hex-bytes.js';

/** A header followed by a frame of `frameLength` bytes. */
function withFrame(header: Buffer, frameLength: number): Buffer {
  return Buffer.concat([header, Buffer.alloc(frameLength, 0xab)]);
}

// What a TAP reads for a 64 KiB IPv4 TCP super-frame with timestamps:
// NEEDS_CSUM, GSO_TCPV4, hdr_len 66 (0x42), gso_size 1448 (0x5a8),
// csum_start 34 (0x22: Ethernet 14 + IPv4 20), csum_offset 16. Little-endian.
const TSO_HEADER = hex('01 01 42 00 a8 05 22 00 10 00');

describe('virtio-net header', () => {
  it('decodes the header a TAP puts in front of a TCP super-frame', () => {
    const h = decodeVirtioNetHeader(withFrame(TSO_HEADER, 1000), 0, 1010);
    assert.ok(h.ok);
    assert.deepEqual(
      [h.flags, h.gsoType, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset, h.headerLength, h.frameLength],
      [VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16, 10, 1000],
    );
    assert.equal(isGsoHeader(h), true);
  });

  it('writes the same bytes, and the 12-byte form with num_buffers after them', () => {
    const fields = { flags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16, numBuffers: 1 };
    const buf = Buffer.alloc(12, 0xee);
    assert.equal(writeVirtioNetHeader(buf, 0, fields), 10);
    assert.deepEqual(buf.subarray(0, 10), TSO_HEADER);
    assert.deepEqual(buf.subarray(10), hex('ee ee'), '10-byte form leaves the next bytes alone');
    assert.equal(writeVirtioNetHeader(buf, 0, fields, 12), 12);
    assert.deepEqual(buf, Buffer.concat([TSO_HEADER, hex('01 00')]));
    const h = decodeVirtioNetHeader(withFrame(buf, 100), 0, 112, 12);
    assert.ok(h.ok);
    assert.deepEqual([h.numBuffers, h.headerLength, h.frameLength, h.gsoSize], [1, 12, 100, 1448]);
  });

  it('round-trips every valid field combination', () => {
    const valid = fc
      .record({
        gsoType: fc.constantFrom(
          VIRTIO_NET_HDR_GSO_NONE,
          VIRTIO_NET_HDR_GSO_TCPV4,
          VIRTIO_NET_HDR_GSO_TCPV6,
          VIRTIO_NET_HDR_GSO_UDP_L4,
          VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
          VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN,
        ),
        dataValid: fc.boolean(),
        needsCsum: fc.boolean(),
        gsoSize: fc.integer({ min: 1, max: 0xffff }),
        csumStart: fc.integer({ min: 14, max: 200 }),
        hdrLen: fc.integer({ min: 0, max: 300 }),
        numBuffers: fc.integer({ min: 0, max: 0xffff }),
        headerLength: fc.constantFrom(10, 12),
      })
      .map((r) => {
        const gso = r.gsoType !== VIRTIO_NET_HDR_GSO_NONE;
        const tcp = (r.gsoType & 0x7f) === 1 || (r.gsoType & 0x7f) === 4;
        return {
          flags: (gso || r.needsCsum ? 1 : 0) | (r.dataValid ? 2 : 0),
          gsoType: r.gsoType,
          hdrLen: r.hdrLen,
          gsoSize: gso ? r.gsoSize : 0,
          csumStart: r.csumStart,
          csumOffset: tcp || !gso ? 16 : 6,
          numBuffers: r.headerLength === 12 ? r.numBuffers : 0,
          headerLength: r.headerLength,
        };
      });
    fc.assert(
      fc.property(valid, (f) => {
        const buf = Buffer.alloc(f.headerLength + 300);
        assert.equal(writeVirtioNetHeader(buf, 0, f, f.headerLength), f.headerLength);
        const h = decodeVirtioNetHeader(buf, 0, buf.length, f.headerLength);
        assert.ok(h.ok, `refused: ${!h.ok && h.reason}`);
        const { flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset, numBuffers } = h;
        const { headerLength: _, ...expected } = f;
        assert.deepEqual({ flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset, numBuffers }, expected);
      }),
      { numRuns: 500 },
    );
  });

  it('fills the object it is given, so a port reuses one per frame', () => {
    const into = new VirtioNetHeader();
    const a = decodeVirtioNetHeader(withFrame(TSO_HEADER, 100), 0, 110, 10, into);
    assert.equal(a, into);
    const b = decodeVirtioNetHeader(withFrame(hex('00 00 00 00 00 00 00 00 00 00'), 60), 0, 70, 10, into);
    assert.equal(b, into);
    assert.deepEqual([into.gsoType, into.flags, into.frameLength], [0, 0, 60]);
  });

  it('writes an all-zero header for a frame as it is', () => {
    const buf = Buffer.alloc(14, 0xff);
    assert.equal(clearVirtioNetHeader(buf, 2), 10);
    assert.deepEqual(buf, hex('ff ff 00 00 00 00 00 00 00 00 00 00 ff ff'));
    assert.equal(clearVirtioNetHeader(buf, 2, 12), 12);
    assert.equal(clearVirtioNetHeader(buf, 3, 12), -1, 'does not fit');
    assert.equal(writeVirtioNetHeader(buf, 0, { ...new VirtioNetHeader() }, 11), -1, 'no 11-byte form');
  });

  const refusals: [string, Buffer, number, VirtioNetHeaderDropReason][] = [
    ['nine bytes', hex('01 01 42 00 a8 05 22 00 10'), 0, 'truncated'],
    ['a header and 13 bytes of frame', TSO_HEADER, 13, 'truncated'],
    ['flag 4 (RSC_INFO, device only)', hex('05 01 42 00 a8 05 22 00 10 00'), 1000, 'unknown-flags'],
    ['gso_type 2 (unassigned)', hex('01 02 42 00 a8 05 22 00 10 00'), 1000, 'unknown-gso-type'],
    ['gso_type 3 (UFO)', hex('01 03 42 00 a8 05 22 00 06 00'), 1000, 'unknown-gso-type'],
    ['gso_type 6', hex('01 06 42 00 a8 05 22 00 10 00'), 1000, 'unknown-gso-type'],
    ['ECN on NONE', hex('00 80 00 00 00 00 00 00 00 00'), 1000, 'unknown-gso-type'],
    ['ECN on UDP_L4', hex('01 85 2a 00 a8 05 22 00 06 00'), 1000, 'unknown-gso-type'],
    ['TSO without NEEDS_CSUM', hex('00 01 42 00 a8 05 22 00 10 00'), 1000, 'gso-without-csum'],
    ['TSO with gso_size 0', hex('01 01 42 00 00 00 22 00 10 00'), 1000, 'gso-size-zero'],
    ['hdr_len 1001 of a 1000-byte frame', hex('01 01 e9 03 a8 05 22 00 10 00'), 1000, 'hdr-len-beyond-frame'],
    ['csum_start 10, inside the Ethernet header', hex('01 00 00 00 00 00 0a 00 10 00'), 1000, 'csum-out-of-range'],
    ['csum field ending past the frame', hex('01 00 00 00 00 00 22 00 10 00'), 51, 'csum-out-of-range'],
    ['csum_start 0xffff', hex('01 00 00 00 00 00 ff ff 10 00'), 1000, 'csum-out-of-range'],
    ['TSO with the UDP checksum offset', hex('01 04 56 00 a8 05 36 00 06 00'), 1000, 'csum-offset-mismatch'],
    ['USO with the TCP checksum offset', hex('01 05 2a 00 a8 05 22 00 10 00'), 1000, 'csum-offset-mismatch'],
  ];
  for (const [what, header, frameLength, reason] of refusals) {
    it(`refuses ${what}: ${reason}`, () => {
      const buf = withFrame(header, frameLength);
      const r = decodeVirtioNetHeader(buf, 0, buf.length);
      assert.deepEqual(r, { ok: false, reason });
    });
  }

  it('accepts the edges the refusals border on', () => {
    const ok = (header: Buffer, frameLength: number): boolean =>
      decodeVirtioNetHeader(withFrame(header, frameLength), 0, 10 + frameLength).ok;
    assert.ok(ok(hex('01 00 00 00 00 00 22 00 10 00'), 52), 'csum field ends exactly at the frame end');
    assert.ok(ok(hex('01 01 e8 03 a8 05 22 00 10 00'), 1000), 'hdr_len = frame length');
    assert.ok(ok(hex('01 81 42 00 a8 05 22 00 10 00'), 1000), 'ECN on TCPV4');
    assert.ok(ok(hex('03 00 00 00 00 00 0e 00 10 00'), 100), 'NEEDS_CSUM and DATA_VALID, csum_start 14');
    assert.ok(ok(hex('00 00 00 00 ff ff ff ff ff ff'), 14), 'without NEEDS_CSUM, csum fields are not looked at');
    assert.equal(VIRTIO_NET_HDR_F_DATA_VALID, 2);
    assert.equal(VIRTIO_NET_HDR_GSO_UDP, 3);
  });

  it('never reads past the bytes it was told about', () => {
    const buf = withFrame(TSO_HEADER, 100);
    assert.deepEqual(decodeVirtioNetHeader(buf.subarray(0, 20), 0, 110), { ok: false, reason: 'truncated' });
    assert.deepEqual(decodeVirtioNetHeader(buf, 105, 10), { ok: false, reason: 'truncated' });
    assert.deepEqual(decodeVirtioNetHeader(buf, -1, 110), { ok: false, reason: 'truncated' });
    assert.deepEqual(decodeVirtioNetHeader(buf, 0, 110, 11), { ok: false, reason: 'truncated' });
    const plain = withFrame(hex('00 00 00 00 00 00 00 00 00 00'), 100);
    const h = decodeVirtioNetHeader(plain, 0, 60);
    assert.ok(h.ok);
    assert.equal(h.frameLength, 50, 'the length argument bounds the frame');
  });
});
