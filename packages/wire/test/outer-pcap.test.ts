import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  OUTER_IPV4_HEADERS_LENGTH,
  TUNNEL_IPV4_MTU_OVERHEAD,
  buildArpRequest,
  buildGreUdpPacket,
  buildPcap,
  buildVxlanPacket,
  decodeTunnelPacket,
  internetChecksum,
  ipv4TransportChecksum,
  parseIpv4Address,
  parseMac,
  writeOuterIpv4Headers,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

const OUTER = {
  srcMac: parseMac('02:00:00:00:01:01')!,
  dstMac: parseMac('02:00:00:00:01:02')!,
  srcIp: parseIpv4Address('192.0.2.1')!,
  dstIp: parseIpv4Address('192.0.2.2')!,
  srcPort: 50000,
};
const INNER = buildArpRequest(parseMac('02:00:00:00:00:0a')!, 0xc633640a, 0xc633640b);

// Outer IPv4 header for a 96-byte datagram 192.0.2.1 → 192.0.2.2, TTL 64, UDP:
// words 4500+0060+0000+0000+4011+c000+0201+c000+0202 = 0x20974 → 0x0976 → ~ = f689.
const OUTER_ETH_IP = `02 00 00 00 01 02 02 00 00 00 01 01 08 00
  45 00 00 60 00 00 00 00 40 11 f6 89 c0 00 02 01 c0 00 02 02`;

describe('outer headers and tunnel packets', () => {
  it('are 42 bytes and cost 50 bytes of underlay MTU', () => {
    assert.equal(OUTER_IPV4_HEADERS_LENGTH, 42);
    assert.equal(TUNNEL_IPV4_MTU_OVERHEAD, 50);
  });

  it('builds a VXLAN packet byte for byte', () => {
    const packet = buildVxlanPacket(OUTER, 100, INNER);
    const expected = Buffer.concat([hex(`${OUTER_ETH_IP} c3 50 12 b5 00 4c 00 00 08 00 00 00 00 00 64 00`), INNER]);
    assert.deepEqual(packet, expected);
  });

  it('builds a GRE-in-UDP packet byte for byte', () => {
    const packet = buildGreUdpPacket(OUTER, 100, INNER);
    const expected = Buffer.concat([hex(`${OUTER_ETH_IP} c3 50 12 92 00 4c 00 00 20 00 65 58 00 00 64 00`), INNER]);
    assert.deepEqual(packet, expected);
  });

  it('decodes what it builds, both encaps, with and without UDP checksum', () => {
    for (const build of [buildVxlanPacket, buildGreUdpPacket]) {
      for (const udpChecksum of [false, true]) {
        const packet = build({ ...OUTER, udpChecksum, ttl: 7, identification: 0x1234 }, 0xabcdef, INNER);
        const r = decodeTunnelPacket(packet, 0, packet.length);
        assert.ok(r !== null);
        assert.equal(r.vni, 0xabcdef);
        assert.equal(r.encap, build === buildVxlanPacket ? 'vxlan' : 'gre-udp');
        assert.equal(r.ipv4.ttl, 7);
        assert.equal(r.ipv4.identification, 0x1234);
        assert.deepEqual(packet.subarray(r.innerOffset, r.innerOffset + r.innerLength), INNER);
        assert.equal(internetChecksum(packet, 14, 20), 0);
        if (udpChecksum) {
          assert.notEqual(r.udp.checksum, 0);
          assert.equal(ipv4TransportChecksum(packet, 34, r.udp.length, OUTER.srcIp, OUTER.dstIp, 17), 0);
        } else {
          assert.equal(r.udp.checksum, 0);
        }
      }
    }
  });

  it('decodeTunnelPacket refuses other ports, bad headers and fragments', () => {
    const packet = buildVxlanPacket(OUTER, 100, INNER);
    assert.equal(decodeTunnelPacket(buildVxlanPacket({ ...OUTER, dstPort: 8472 }, 100, INNER), 0, 110), null);
    assert.notEqual(
      decodeTunnelPacket(buildVxlanPacket({ ...OUTER, dstPort: 8472 }, 1, INNER), 0, 110, { vxlan: 8472 }),
      null,
    );
    const noIFlag = Buffer.from(packet);
    noIFlag[42] = 0;
    assert.equal(decodeTunnelPacket(noIFlag, 0, packet.length), null);
    const badChecksum = Buffer.from(packet);
    badChecksum[24] ^= 1;
    assert.equal(decodeTunnelPacket(badChecksum, 0, packet.length), null);
    const fragment = buildVxlanPacket(OUTER, 100, INNER);
    fragment[20] = 0x20; // MF
    fragment.writeUInt16BE(0, 24);
    fragment.writeUInt16BE(internetChecksum(fragment, 14, 20), 24);
    assert.equal(decodeTunnelPacket(fragment, 0, packet.length), null);
    assert.equal(decodeTunnelPacket(packet, 0, packet.length - 1), null, 'IPv4 total length beyond the frame');
  });

  it('writeOuterIpv4Headers refuses when headers plus payload do not fit', () => {
    const buf = Buffer.alloc(60, 0xee);
    assert.equal(writeOuterIpv4Headers(buf, 0, OUTER, 4789, 19), -1);
    assert.ok(buf.every((b) => b === 0xee));
    assert.equal(writeOuterIpv4Headers(buf, 0, OUTER, 4789, 18), 42);
  });
});

describe('pcap file bytes', () => {
  it('writes the libpcap global header and records little-endian', () => {
    const file = buildPcap([hex('aa bb cc'), { data: hex('dd'), timestampMicros: 1_700_000_000_123_456 }]);
    assert.deepEqual(
      file,
      hex(`d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 01 00 00 00
           00 00 00 00 00 00 00 00 03 00 00 00 03 00 00 00 aa bb cc
           00 f1 53 65 40 e2 01 00 01 00 00 00 01 00 00 00 dd`),
    );
  });

  it('numbers default timestamps by record index in milliseconds and honours the snap length', () => {
    const file = buildPcap([hex('01'), hex('02 03 04')], { snapLength: 2, linkType: 101 });
    assert.equal(file.readUInt32LE(16), 2);
    assert.equal(file.readUInt32LE(20), 101);
    const second = 24 + 16 + 1;
    assert.equal(file.readUInt32LE(second + 4), 1000);
    assert.equal(file.readUInt32LE(second + 8), 2, 'captured length cut to the snap length');
    assert.equal(file.readUInt32LE(second + 12), 3, 'original length kept');
    assert.equal(file.length, second + 16 + 2);
  });
});
