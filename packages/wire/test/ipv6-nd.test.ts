import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_TYPE_NEIGHBOR_SOLICITATION,
  decodeIpv6,
  decodeNeighborMessage,
  formatIpv6Address,
  icmpv6Checksum,
  ipv6MulticastMac,
  parseIpv6Address,
  parseMac,
  solicitedNodeAddress,
  writeIpv6Header,
  writeNeighborAdvertisement,
  writeNeighborAdvertisementInPlace,
  checkNeighborMessage,
  ND_INVALID,
  writeNeighborSolicitation,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

const MAC_A = parseMac('02:00:00:00:00:0a')!;
const MAC_B = parseMac('02:00:00:00:00:0b')!;
const IP_A = parseIpv6Address('2001:db8::1')!;
const IP_B = parseIpv6Address('2001:db8::2')!;
const A = '20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01';
const B = '20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02';

// Checksums computed independently (pseudo-header + message, RFC 8200 §8.1).
const NS_FRAME = `33 33 ff 00 00 02  02 00 00 00 00 0a  86 dd
  60 00 00 00  00 20 3a ff  ${A}  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 02
  87 00 1c 1e  00 00 00 00  ${B}  01 01 02 00 00 00 00 0a`;
const NA_FRAME = `02 00 00 00 00 0a  02 00 00 00 00 0b  86 dd
  60 00 00 00  00 20 3a ff  ${B}  ${A}
  88 00 8a 68  60 00 00 00  ${B}  02 01 02 00 00 00 00 0b`;

describe('IPv6 addresses', () => {
  it('parses and formats per RFC 4291 / RFC 5952', () => {
    const vectors: [string, string, string][] = [
      ['2001:db8::1', A, '2001:db8::1'],
      ['::', '00'.repeat(16), '::'],
      ['::1', `${'00'.repeat(15)} 01`, '::1'],
      ['FE80::1:2', 'fe 80 00 00 00 00 00 00 00 00 00 00 00 01 00 02', 'fe80::1:2'],
      ['2001:db8:0:0:1:0:0:1', '20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '20 01 0d b8 00 00 00 01 00 01 00 01 00 01 00 01', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01', '::ffff:c000:201'],
      ['1:2:3:4:5:6:7::', '00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 00', '1:2:3:4:5:6:7:0'],
    ];
    for (const [text, bytes, canonical] of vectors) {
      assert.deepEqual(parseIpv6Address(text), hex(bytes), text);
      assert.equal(formatIpv6Address(hex(bytes), 0), canonical, text);
    }
  });

  it('rejects malformed text', () => {
    for (const bad of ['', ':', '1::2::3', '12345::', 'g::', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(parseIpv6Address(bad), null, bad);
    }
    assert.equal(parseIpv6Address('1::2:3:4:5:6:7:8'), null, 'eight groups plus ::');
    assert.equal(parseIpv6Address('::1.2.3'), null);
    assert.equal(parseIpv6Address('::1.2.3.4:5'), null, 'dotted quad not last');
  });

  it('round-trips any 16 bytes through text (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        assert.deepEqual(parseIpv6Address(formatIpv6Address(bytes, 0)), Buffer.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv6 header (RFC 8200)', () => {
  it('writes and decodes traffic class, flow label and addresses', () => {
    const buf = Buffer.alloc(44);
    const fields = { src: IP_A, dst: IP_B, nextHeader: 17, payloadLength: 4, hopLimit: 9, trafficClass: 0xb8 };
    assert.equal(writeIpv6Header(buf, 0, { ...fields, flowLabel: 0xabcde }), 40);
    assert.deepEqual(buf.subarray(0, 8), hex('6b 8a bc de 00 04 11 09'));
    assert.deepEqual(decodeIpv6(buf, 0, 44), {
      trafficClass: 0xb8,
      flowLabel: 0xabcde,
      payloadLength: 4,
      nextHeader: 17,
      hopLimit: 9,
      srcOffset: 8,
      dstOffset: 24,
      payloadOffset: 40,
    });
    assert.equal(decodeIpv6(buf, 0, 43), null, 'payload beyond what is available');
    assert.equal(decodeIpv6(buf, 0, 39), null);
    buf[0] = 0x4b;
    assert.equal(decodeIpv6(buf, 0, 44), null, 'version 4');
    assert.equal(writeIpv6Header(buf, 0, { ...fields, src: IP_A.subarray(0, 15) }), -1);
  });
});

describe('ICMPv6 neighbour discovery (RFC 4861)', () => {
  it('builds a neighbour solicitation to the solicited-node group', () => {
    const buf = Buffer.alloc(86);
    assert.equal(writeNeighborSolicitation(buf, 0, { srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B }), 86);
    assert.deepEqual(buf, hex(NS_FRAME));
    assert.deepEqual(solicitedNodeAddress(IP_B), parseIpv6Address('ff02::1:ff00:2'));
    assert.equal(ipv6MulticastMac(parseIpv6Address('ff02::1:ff00:2')!), parseMac('33:33:ff:00:00:02'));
  });

  it('builds a solicited neighbour advertisement', () => {
    const buf = Buffer.alloc(86);
    const fields = { srcMac: MAC_B, dstMac: MAC_A, srcIp: IP_B, dstIp: IP_A, targetIp: IP_B };
    assert.equal(writeNeighborAdvertisement(buf, 0, { ...fields, solicited: true, override: true }), 86);
    assert.deepEqual(buf, hex(NA_FRAME));
  });

  it('decodes both, with the link-layer option as a MAC number', () => {
    const ns = hex(NS_FRAME);
    assert.deepEqual(decodeNeighborMessage(ns, 14, 72), {
      type: ICMPV6_TYPE_NEIGHBOR_SOLICITATION,
      srcOffset: 22,
      dstOffset: 38,
      targetOffset: 62,
      router: false,
      solicited: false,
      override: false,
      linkLayerMac: MAC_A,
    });
    const na = hex(NA_FRAME);
    const r = decodeNeighborMessage(na, 14, 72);
    assert.equal(r?.type, ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT);
    assert.deepEqual([r?.router, r?.solicited, r?.override, r?.linkLayerMac], [false, true, true, MAC_B]);
    assert.equal(formatIpv6Address(na, r!.targetOffset), '2001:db8::2');
  });

  it('builds a DAD solicitation from :: without the source link-layer option', () => {
    const buf = Buffer.alloc(86);
    const unspecified = Buffer.alloc(16);
    assert.equal(writeNeighborSolicitation(buf, 0, { srcMac: MAC_A, srcIp: unspecified, targetIp: IP_B }), 78);
    const r = decodeNeighborMessage(buf, 14, 64);
    assert.equal(r?.linkLayerMac, -1);
    assert.equal(icmpv6Checksum(buf, 14, 24), 0);
  });

  it('enforces the RFC 4861 §7.1 validity checks', () => {
    const mutated = (text: string, at: number, value: number, fixChecksum = true): Buffer => {
      const buf = hex(text);
      buf[at] = value;
      if (fixChecksum) {
        buf.writeUInt16BE(0, 56);
        buf.writeUInt16BE(icmpv6Checksum(buf, 14, 32), 56);
      }
      return buf;
    };
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 21, 254), 14, 72), null, 'hop limit 254');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 55, 1), 14, 72), null, 'code 1');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 57, 0x1f, false), 14, 72), null, 'bad checksum');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 62, 0xff), 14, 72), null, 'multicast target');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 79, 0), 14, 72), null, 'option length 0');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 79, 2), 14, 72), null, 'option beyond message');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 54, 128), 14, 72), null, 'echo request, not ND');
    assert.equal(decodeNeighborMessage(mutated(NA_FRAME, 38, 0xff), 14, 72), null, 'solicited NA to multicast');
    assert.equal(decodeNeighborMessage(mutated(NS_FRAME, 20, 17), 14, 72), null, 'next header UDP');
    const dadWithOption = hex(NS_FRAME);
    dadWithOption.fill(0, 22, 38);
    dadWithOption.writeUInt16BE(0, 56);
    dadWithOption.writeUInt16BE(icmpv6Checksum(dadWithOption, 14, 32), 56);
    assert.equal(decodeNeighborMessage(dadWithOption, 14, 72), null, 'NS from :: with a link-layer option');
    assert.equal(decodeNeighborMessage(hex(NS_FRAME), 14, 71), null, 'truncated');
  });
});

describe('writeNeighborAdvertisementInPlace (ND suppression answers)', () => {
  it('turns an NS into the solicited, override NA the target would send, checksum right', () => {
    const buf = Buffer.alloc(120, 0xee);
    const nsLength = writeNeighborSolicitation(buf, 6, { srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B });
    assert.equal(nsLength, 86);
    assert.ok(checkNeighborMessage(buf, 6 + 14, nsLength - 14) > 0, 'NS with a source link-layer option');
    const expected = Buffer.alloc(86);
    writeNeighborAdvertisement(expected, 0, {
      srcMac: MAC_B,
      dstMac: MAC_A,
      srcIp: IP_B,
      dstIp: IP_A,
      targetIp: IP_B,
      solicited: true,
      override: true,
    });
    assert.equal(writeNeighborAdvertisementInPlace(buf, 6, Math.floor(MAC_B / 0x1000000), MAC_B % 0x1000000), 86);
    assert.deepEqual(buf.subarray(6, 92), expected);
    assert.equal(buf[92], 0xee, 'nothing written after the NA');
    const na = decodeNeighborMessage(buf, 20, 72);
    assert.equal(na?.type, ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT);
    assert.equal(na?.solicited, true);
    assert.equal(na?.override, true);
    assert.equal(na?.linkLayerMac, MAC_B);
  });

  it('checkNeighborMessage refuses a bad checksum and a routed hop limit', () => {
    const buf = Buffer.alloc(86);
    writeNeighborSolicitation(buf, 0, { srcMac: MAC_A, srcIp: IP_A, targetIp: IP_B });
    const badSum = Buffer.from(buf);
    badSum[57] ^= 1;
    assert.equal(checkNeighborMessage(badSum, 14, 72), ND_INVALID);
    const routed = Buffer.from(buf);
    routed[21] = 254;
    assert.equal(checkNeighborMessage(routed, 14, 72), ND_INVALID);
  });
});
