import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  GRE_UDP_HEADER_LENGTH,
  GRE_UDP_PORT,
  MAX_VNI,
  MIN_VNI,
  VXLAN_HEADER_LENGTH,
  VXLAN_UDP_PORT,
  isValidVni,
  readGreUdpVni,
  readVxlanVni,
  writeGreUdpHeader,
  writeVxlanHeader,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

describe('VNI range', () => {
  it('is 1..16777215 and rejects non-integers', () => {
    assert.equal(MIN_VNI, 1);
    assert.equal(MAX_VNI, 2 ** 24 - 1);
    for (const ok of [1, 100, 16777215]) assert.equal(isValidVni(ok), true);
    for (const bad of [0, -1, 16777216, 1.5, NaN, '100', null, undefined]) assert.equal(isValidVni(bad), false);
  });
});

describe('VXLAN header (RFC 7348 §5)', () => {
  it('has the RFC size and IANA port', () => {
    assert.equal(VXLAN_HEADER_LENGTH, 8);
    assert.equal(VXLAN_UDP_PORT, 4789);
  });

  it('writes flags 0x08, zero reserved bits and the VNI in bytes 4..6', () => {
    const vectors: [number, string][] = [
      [100, '08 00 00 00 00 00 64 00'],
      [1, '08 00 00 00 00 00 01 00'],
      [0x123456, '08 00 00 00 12 34 56 00'],
      [MAX_VNI, '08 00 00 00 ff ff ff 00'],
    ];
    for (const [vni, bytes] of vectors) {
      const buf = Buffer.alloc(10, 0xee);
      writeVxlanHeader(buf, 1, vni);
      assert.deepEqual(buf, hex(`ee ${bytes} ee`), `vni ${vni}`);
      assert.equal(readVxlanVni(buf, 1, 8), vni);
    }
  });

  it('ignores reserved bits on receive but requires the I flag', () => {
    assert.equal(readVxlanVni(hex('ff ff ff ff 00 00 64 ff'), 0, 8), 100);
    assert.equal(readVxlanVni(hex('08 00 00 00 00 00 00 00'), 0, 8), 0);
    assert.equal(readVxlanVni(hex('00 00 00 00 00 00 64 00'), 0, 8), -1);
    assert.equal(readVxlanVni(hex('f7 ff ff ff 00 00 64 00'), 0, 8), -1);
  });

  it('returns -1 when fewer than 8 bytes are available, by length or by buffer', () => {
    const buf = hex('08 00 00 00 00 00 64 00');
    assert.equal(readVxlanVni(buf, 0, 7), -1);
    assert.equal(readVxlanVni(buf, 1, 8), -1);
    assert.equal(readVxlanVni(buf.subarray(0, 7), 0, 8), -1);
    assert.equal(readVxlanVni(buf, -1, 9), -1);
    assert.equal(readVxlanVni(buf, NaN, 8), -1);
  });

  it('round-trips every VNI at any offset (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_VNI }), fc.nat(32), (vni, off) => {
        const buf = Buffer.alloc(off + 8);
        writeVxlanHeader(buf, off, vni);
        assert.equal(readVxlanVni(buf, off, 8), vni);
        assert.equal(buf.readUIntBE(off + 4, 3), vni);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('GRE-in-UDP header (RFC 8086, key as RFC 7637)', () => {
  it('has the RFC size and IANA port', () => {
    assert.equal(GRE_UDP_HEADER_LENGTH, 8);
    assert.equal(GRE_UDP_PORT, 4754);
  });

  it('writes K set, version 0, protocol 0x6558 and key = VNI << 8', () => {
    const vectors: [number, string][] = [
      [100, '20 00 65 58 00 00 64 00'],
      [0x123456, '20 00 65 58 12 34 56 00'],
      [MAX_VNI, '20 00 65 58 ff ff ff 00'],
    ];
    for (const [vni, bytes] of vectors) {
      const buf = Buffer.alloc(10, 0xee);
      writeGreUdpHeader(buf, 1, vni);
      assert.deepEqual(buf, hex(`ee ${bytes} ee`), `vni ${vni}`);
      assert.equal(buf.readUInt32BE(5), vni * 256, 'key = vni << 8');
      assert.equal(readGreUdpVni(buf, 1, 8), vni);
    }
  });

  it('puts a flow id in the low key byte and ignores it on receive', () => {
    const buf = Buffer.alloc(8);
    writeGreUdpHeader(buf, 0, 100, 0x7f);
    assert.deepEqual(buf, hex('20 00 65 58 00 00 64 7f'));
    assert.equal(readGreUdpVni(buf, 0, 8), 100);
  });

  it('drops headers it cannot or must not handle', () => {
    const drops: [string, string][] = [
      ['00 00 65 58 00 00 64 00', 'K bit clear'],
      ['a0 00 65 58 00 00 64 00', 'C (checksum) set'],
      ['30 00 65 58 00 00 64 00', 'S (sequence) set'],
      ['60 00 65 58 00 00 64 00', 'R (routing) set'],
      ['28 00 65 58 00 00 64 00', 'strict source route set'],
      ['24 00 65 58 00 00 64 00', 'recursion control set'],
      ['20 01 65 58 00 00 64 00', 'version 1 (PPTP)'],
      ['20 07 65 58 00 00 64 00', 'version 7'],
      ['20 00 08 00 00 00 64 00', 'protocol IPv4, not TEB'],
      ['20 00 88 be 00 00 64 00', 'protocol ERSPAN'],
    ];
    for (const [bytes, why] of drops) assert.equal(readGreUdpVni(hex(bytes), 0, 8), -1, why);
  });

  it('ignores reserved bits 6-12 on receipt (RFC 2784 §2.3)', () => {
    assert.equal(readGreUdpVni(hex('23 f8 65 58 00 00 64 00'), 0, 8), 100);
  });

  it('returns -1 when fewer than 8 bytes are available', () => {
    const buf = hex('20 00 65 58 00 00 64 00');
    assert.equal(readGreUdpVni(buf, 0, 7), -1);
    assert.equal(readGreUdpVni(buf, 1, 8), -1);
    assert.equal(readGreUdpVni(buf.subarray(0, 4), 0, 8), -1);
    assert.equal(readGreUdpVni(buf, -2, 10), -1);
  });

  it('round-trips every VNI and flow id (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_VNI }), fc.nat(255), fc.nat(32), (vni, flowId, off) => {
        const buf = Buffer.alloc(off + 8);
        writeGreUdpHeader(buf, off, vni, flowId);
        assert.equal(readGreUdpVni(buf, off, 8), vni);
        assert.equal(buf.readUInt32BE(off + 4), vni * 256 + flowId);
      }),
      { numRuns: 2000 },
    );
  });
});
