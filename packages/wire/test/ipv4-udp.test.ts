import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  IP_PROTOCOL_UDP,
  TUNNEL_SOURCE_PORT_MAX,
  TUNNEL_SOURCE_PORT_MIN,
  decodeIpv4,
  decodeUdp,
  fillUdpChecksumIpv4,
  formatIpv4Address,
  internetChecksum,
  parseIpv4Address,
  readIpv4Address,
  tunnelSourcePort,
  writeIpv4Address,
  writeIpv4Header,
  writeUdpHeader,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

describe('Internet checksum (RFC 1071)', () => {
  it('matches the RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    assert.equal(internetChecksum(hex('00 01 f2 03 f4 f5 f6 f7'), 0, 8), 0x220d);
  });

  it('pads an odd trailing byte with zero', () => {
    assert.equal(internetChecksum(hex('01'), 0, 1), 0xfeff);
    assert.equal(internetChecksum(hex('ff ff ff'), 0, 3), internetChecksum(hex('ff ff ff 00'), 0, 4));
  });

  it('stays exact on 64 KiB of 0xff', () => {
    assert.equal(internetChecksum(Buffer.alloc(65536, 0xff), 0, 65536), 0);
  });
});

describe('IPv4 addresses as numbers', () => {
  it('parses, formats, reads and writes', () => {
    assert.equal(parseIpv4Address('192.0.2.1'), 0xc0000201);
    assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
    assert.equal(formatIpv4Address(0xc6336401), '198.51.100.1');
    const buf = Buffer.alloc(4);
    writeIpv4Address(buf, 0, 0xcb007107);
    assert.deepEqual(buf, hex('cb 00 71 07'));
    assert.equal(readIpv4Address(buf, 0), 0xcb007107);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d']) {
      assert.equal(parseIpv4Address(bad), null, bad);
    }
  });
});

// A header with a well-known checksum: 192.168.0.1 → 192.168.0.199, UDP,
// total length 0x73, DF, TTL 64: checksum b861.
const KNOWN_HEADER = '45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7';

describe('IPv4 header (RFC 791)', () => {
  const packet = Buffer.concat([hex(KNOWN_HEADER), Buffer.alloc(0x73 - 20, 0xab)]);

  it('decodes the known header and validates its checksum', () => {
    assert.deepEqual(decodeIpv4(packet, 0, packet.length), {
      headerLength: 20,
      dscp: 0,
      ecn: 0,
      totalLength: 0x73,
      identification: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      checksum: 0xb861,
      src: 0xc0a80001,
      dst: 0xc0a800c7,
      payloadOffset: 20,
      payloadLength: 0x73 - 20,
    });
  });

  it('builds the same bytes, checksum included', () => {
    const buf = Buffer.alloc(20);
    const fields = { src: 0xc0a80001, dst: 0xc0a800c7, protocol: IP_PROTOCOL_UDP, payloadLength: 0x73 - 20 };
    assert.equal(writeIpv4Header(buf, 0, { ...fields, ttl: 64, dontFragment: true }), 20);
    assert.deepEqual(buf, hex(KNOWN_HEADER));
    assert.equal(writeIpv4Header(Buffer.alloc(19), 0, fields), -1);
    assert.equal(writeIpv4Header(buf, 0, { ...fields, payloadLength: 65516 }), -1);
  });

  it('accepts Ethernet padding after the total length and rejects what is wrong', () => {
    const padded = Buffer.concat([packet, Buffer.alloc(6)]);
    assert.equal(decodeIpv4(padded, 0, padded.length)?.payloadLength, 0x73 - 20);
    const broken = (at: number, value: number): Buffer => {
      const copy = Buffer.from(packet);
      copy[at] = value;
      return copy;
    };
    assert.equal(decodeIpv4(broken(11, 0x62), 0, packet.length), null, 'checksum off by one');
    assert.equal(decodeIpv4(broken(15, 0x02), 0, packet.length), null, 'source changed, checksum stale');
    assert.equal(decodeIpv4(broken(0, 0x65), 0, packet.length), null, 'version 6');
    assert.equal(decodeIpv4(broken(0, 0x44), 0, packet.length), null, 'IHL 4');
    assert.equal(decodeIpv4(packet, 0, 0x72), null, 'total length beyond what is available');
    assert.equal(decodeIpv4(packet, 0, 19), null);
    assert.equal(decodeIpv4(packet.subarray(0, 19), 0, 20), null);
  });

  it('handles options: IHL 6 with a 4-byte option', () => {
    const buf = hex('46 00 00 18 00 00 00 00 40 01 00 00 c0 00 02 01 c0 00 02 02 01 01 01 00');
    const checksum = internetChecksum(buf, 0, 24);
    buf.writeUInt16BE(checksum, 10);
    const r = decodeIpv4(buf, 0, 24);
    assert.equal(r?.headerLength, 24);
    assert.equal(r?.payloadLength, 0);
  });

  it('round-trips built headers (property)', () => {
    const addr = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    fc.assert(
      fc.property(
        addr,
        addr,
        fc.nat(255),
        fc.nat(1400),
        fc.nat(255),
        fc.nat(0xffff),
        (src, dst, protocol, n, ttl, id) => {
          const buf = Buffer.alloc(20 + n);
          writeIpv4Header(buf, 0, { src, dst, protocol, payloadLength: n, ttl, identification: id });
          const r = decodeIpv4(buf, 0, buf.length);
          assert.ok(r !== null);
          assert.deepEqual([r.src, r.dst, r.protocol, r.ttl, r.identification], [src, dst, protocol, ttl, id]);
          assert.equal(r.payloadLength, n);
          assert.equal(internetChecksum(buf, 0, 20), 0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('UDP header (RFC 768)', () => {
  it('decodes and writes a VXLAN-bound header', () => {
    const buf = hex('c3 50 12 b5 00 14 00 00 08 00 00 00 00 00 64 00 de ad be ef');
    assert.deepEqual(decodeUdp(buf, 0, buf.length), {
      srcPort: 50000,
      dstPort: 4789,
      length: 20,
      checksum: 0,
      payloadOffset: 8,
      payloadLength: 12,
    });
    const out = Buffer.alloc(8);
    assert.equal(writeUdpHeader(out, 0, 50000, 4789, 12), 8);
    assert.deepEqual(out, buf.subarray(0, 8));
  });

  it('computes the IPv4 pseudo-header checksum', () => {
    // 192.0.2.1:50000 → 192.0.2.2:4789 carrying VXLAN VNI 100 + de ad be ef
    const buf = hex('c3 50 12 b5 00 14 00 00 08 00 00 00 00 00 64 00 de ad be ef');
    assert.equal(fillUdpChecksumIpv4(buf, 0, 0xc0000201, 0xc0000202), 0x9c1e);
    assert.deepEqual(buf.subarray(6, 8), hex('9c 1e'));
  });

  it('returns null for short headers and bad length fields', () => {
    const buf = hex('c3 50 12 b5 00 14 00 00 08 00 00 00 00 00 64 00 de ad be ef');
    assert.equal(decodeUdp(buf, 0, 7), null);
    assert.equal(decodeUdp(buf, 0, 19), null, 'length field 20 > 19 available');
    assert.equal(decodeUdp(hex('c3 50 12 b5 00 07 00 00'), 0, 8), null, 'length field below 8');
    assert.equal(decodeUdp(buf.subarray(0, 12), 0, 20), null);
  });

  it('maps flow hashes into the dynamic port range', () => {
    assert.equal(tunnelSourcePort(0), TUNNEL_SOURCE_PORT_MIN);
    assert.equal(tunnelSourcePort(16383), TUNNEL_SOURCE_PORT_MAX);
    assert.equal(tunnelSourcePort(16384), TUNNEL_SOURCE_PORT_MIN);
    fc.assert(
      fc.property(fc.integer(), (h) => {
        const port = tunnelSourcePort(h);
        assert.ok(port >= 49152 && port <= 65535 && Number.isInteger(port));
      }),
      { numRuns: 1000 },
    );
  });
});
