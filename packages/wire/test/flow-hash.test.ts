import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FrameLayout,
  TUNNEL_SOURCE_PORT_MAX,
  TUNNEL_SOURCE_PORT_MIN,
  buildArpRequest,
  flowHashOfLayout,
  innerFlowHash,
  isValidTunnelSourcePortRange,
  parseFrameLayout,
  pushVlanTag,
  tunnelSourcePort,
} from '../src/index.js';
import { type TcpFrameSpec, buildTcpFrame, patternPayload } from '../src/testing/index.js';

const hash = (f: Buffer): number => innerFlowHash(f, 0, f.length);
const base: TcpFrameSpec = { version: 4, payload: patternPayload(100) };

describe('innerFlowHash', () => {
  it('is the same for every packet of a flow, whatever the payload, seq or flags', () => {
    const a = hash(buildTcpFrame(base));
    assert.equal(hash(buildTcpFrame({ ...base, payload: patternPayload(1400, 9), seq: 77, flags: 0x18 })), a);
    assert.equal(hash(buildTcpFrame({ ...base, ttl: 3, id: 99, window: 1 })), a);
    assert.ok(Number.isInteger(a) && a >= 0 && a <= 0xffffffff);
  });

  it('changes with each field of the flow: MACs, addresses, ports, protocol', () => {
    const a = hash(buildTcpFrame(base));
    const variants: [string, Buffer][] = [
      ['source MAC', buildTcpFrame({ ...base, srcMac: 0x020000000001 })],
      ['destination MAC', buildTcpFrame({ ...base, dstMac: 0x020000000001 })],
      ['source port', buildTcpFrame({ ...base, srcPort: 40001 })],
      ['destination port', buildTcpFrame({ ...base, dstPort: 5202 })],
      ['UDP, same ports', buildTcpFrame({ ...base, udp: true })],
      ['IPv6', buildTcpFrame({ ...base, version: 6 })],
    ];
    for (const [what, frame] of variants) assert.notEqual(hash(frame), a, what);
    const otherAddress = buildTcpFrame(base);
    otherAddress[14 + 15] ^= 1; // source address
    assert.notEqual(hash(otherAddress), a, 'source address');
    otherAddress[14 + 15] ^= 1;
    otherAddress[14 + 19] ^= 1; // destination address
    assert.notEqual(hash(otherAddress), a, 'destination address');
  });

  it('keeps a flow on one port when an 802.1Q tag is pushed', () => {
    const frame = buildTcpFrame(base);
    const tagged = Buffer.concat([Buffer.alloc(4), frame]);
    assert.equal(pushVlanTag(tagged, 4, frame.length, 100), 0);
    assert.equal(hash(tagged), hash(frame));
  });

  it('leaves ports out of IPv4 fragments, so all fragments of a datagram agree', () => {
    const first = buildTcpFrame({ ...base, udp: true });
    first[14 + 6] |= 0x20; // MF
    const later = buildTcpFrame({ ...base, udp: true, srcPort: 1, dstPort: 2 });
    later[14 + 7] = 0xb9; // fragment offset 185: the "ports" are payload bytes
    assert.equal(hash(first), hash(later));
  });

  it('hashes non-IP frames by their MACs and EtherType, and short frames without reading past them', () => {
    const arp = buildArpRequest(0x020000000001, 0xc0000201, 0xc0000202);
    const arpOther = buildArpRequest(0x020000000002, 0xc0000201, 0xc0000202);
    assert.notEqual(hash(arp), hash(arpOther));
    assert.equal(hash(arp), innerFlowHash(arp, 0, 14), 'only the Ethernet header counts');
    assert.equal(innerFlowHash(arp, 0, 5), innerFlowHash(Buffer.alloc(0), 0, 0));
    assert.equal(innerFlowHash(arp, 40, 100), innerFlowHash(arp, 40, 20), 'the buffer end bounds a lying length');
    assert.equal(innerFlowHash(arp, -1, 10), innerFlowHash(Buffer.alloc(0), 0, 0));
  });

  it('takes a seed, and agrees with flowHashOfLayout on a parsed frame', () => {
    const frame = buildTcpFrame(base);
    assert.notEqual(innerFlowHash(frame, 0, frame.length, 1), hash(frame));
    const layout = new FrameLayout();
    assert.ok(parseFrameLayout(frame, 0, frame.length, layout));
    assert.equal(flowHashOfLayout(frame, 0, layout, 7), innerFlowHash(frame, 0, frame.length, 7));
  });

  it('spreads flows evenly over the source-port range', () => {
    // 16384 flows (random ports and addresses) into 64 buckets of the port range: each bucket
    // should get 256; a hash that ignored a field or clumped would leave some far off.
    const buckets = new Array<number>(64).fill(0);
    const ports = new Set<number>();
    const frame = buildTcpFrame(base);
    let r = 0x5eed;
    for (let i = 0; i < 16384; i++) {
      r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
      frame.writeUInt32BE(r, 14 + 12);
      frame.writeUInt16BE(r >>> 16, 34);
      const p = tunnelSourcePort(hash(frame));
      ports.add(p);
      buckets[Math.floor((p - TUNNEL_SOURCE_PORT_MIN) / 256)]++;
    }
    for (const [i, n] of buckets.entries()) assert.ok(n > 180 && n < 340, `bucket ${i}: ${n} flows`);
    assert.ok(ports.size > 10000, `${ports.size} distinct ports`);
  });

  it('spreads flows that differ only in the source port (one client, many connections)', () => {
    const frame = buildTcpFrame(base);
    const seen = new Set<number>();
    for (let port = 40000; port < 41024; port++) {
      frame.writeUInt16BE(port, 34);
      seen.add(tunnelSourcePort(hash(frame)) >>> 4);
    }
    assert.ok(seen.size > 580, `1024 connections over ${seen.size} of 1024 port groups`);
  });
});

describe('tunnelSourcePort ranges', () => {
  it('maps into 49152..65535 by default and into any valid range inclusively', () => {
    assert.equal(tunnelSourcePort(0), TUNNEL_SOURCE_PORT_MIN);
    assert.equal(tunnelSourcePort(TUNNEL_SOURCE_PORT_MAX - TUNNEL_SOURCE_PORT_MIN), TUNNEL_SOURCE_PORT_MAX);
    assert.equal(tunnelSourcePort(0, 32768, 60999), 32768);
    assert.equal(tunnelSourcePort(60999 - 32768, 32768, 60999), 60999);
    assert.equal(tunnelSourcePort(0xffffffff, 4789, 4789), 4789, 'one port: entropy off');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffff }), fc.integer(), (a, b, h) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const p = tunnelSourcePort(h, min, max);
        assert.ok(Number.isInteger(p) && p >= min && p <= max);
      }),
      { numRuns: 2000 },
    );
  });

  it('validates a range: integers, 1 <= min <= max <= 65535', () => {
    assert.ok(isValidTunnelSourcePortRange(49152, 65535));
    assert.ok(isValidTunnelSourcePortRange(1, 1));
    for (const [min, max] of [
      [0, 10],
      [10, 9],
      [1, 65536],
      [1.5, 2],
      ['1', 2],
      [1, NaN],
      [undefined, 2],
    ]) {
      assert.equal(isValidTunnelSourcePortRange(min, max), false, `${String(min)}..${String(max)}`);
    }
  });
});
