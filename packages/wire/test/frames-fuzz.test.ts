// Every decoder on 100k random, mutated and truncated inputs: it never throws,
// never reads outside the bytes it was given (boundedView throws on any index
// read outside [off, min(off + length, bytes present))), and returns either
// its "no" value or a result that is valid on its face. Inputs are derived from
// a fast-check seed by a cheap xorshift generator: fast-check drives and
// reports (the seed reproduces a failure), the bytes cost almost nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_TYPE_NEIGHBOR_SOLICITATION,
  MAX_MAC,
  buildArpRequest,
  buildGreUdpPacket,
  buildRarpAnnounce,
  buildVxlanPacket,
  decodeArp,
  decodeEthernet,
  decodeIpv4,
  decodeIpv6,
  decodeNeighborMessage,
  decodeTunnelPacket,
  decodeUdp,
  icmpv6Checksum,
  internetChecksum,
  parseIpv6Address,
  pushVlanTag,
  readGreUdpVni,
  readInnerEthertype,
  readVlanId,
  readVxlanVni,
  writeGreUdpHeader,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  writeVxlanHeader,
} from '../src/frames/index.js';
import { OutOfBoundsRead, boundedView } from './bounded-view.js';
import { type Subject, fuzzSubject } from './fuzz-input.js';

const INPUTS_PER_DECODER = 100_000;

const isMac = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_MAC;
const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isU16 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;
const isVni = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffff;

const OUTER = { srcMac: 0x020000000101, dstMac: 0x020000000102, srcIp: 0xc0000201, dstIp: 0xc0000202, srcPort: 50000 };
const ARP = buildArpRequest(0x02000000000a, 0xc633640a, 0xc633640b);
const VXLAN_PACKET = buildVxlanPacket(OUTER, 100, ARP);
const GRE_PACKET = buildGreUdpPacket({ ...OUTER, udpChecksum: true }, 4242, ARP);

function tagged(frame: Buffer, vid: number): Buffer {
  const buf = Buffer.concat([Buffer.alloc(4), frame]);
  pushVlanTag(buf, 4, frame.length, vid, 3);
  return buf;
}

function neighborFrames(): Buffer[] {
  const a = parseIpv6Address('2001:db8::1')!;
  const b = parseIpv6Address('2001:db8::2')!;
  const ns = Buffer.alloc(86);
  writeNeighborSolicitation(ns, 0, { srcMac: 0x02000000000a, srcIp: a, targetIp: b });
  const na = Buffer.alloc(86);
  writeNeighborAdvertisement(na, 0, {
    srcMac: 0x02000000000b,
    dstMac: 1,
    srcIp: b,
    dstIp: a,
    targetIp: b,
    solicited: true,
  });
  return [ns.subarray(14), na.subarray(14)];
}

function vxlanHeader(vni: number): Buffer {
  const buf = Buffer.alloc(8);
  writeVxlanHeader(buf, 0, vni);
  return buf;
}

function greHeader(vni: number): Buffer {
  const buf = Buffer.alloc(8);
  writeGreUdpHeader(buf, 0, vni);
  return buf;
}

const ETHERNET_TEMPLATES = [ARP, buildRarpAnnounce(0x525400123456), tagged(ARP, 100), tagged(tagged(ARP, 7), 9)];

const subjects: Record<string, Subject> = {
  readVlanId: {
    templates: ETHERNET_TEMPLATES,
    check(buf, off, length) {
      const vid = readVlanId(buf, off, length);
      assert.ok(Number.isInteger(vid) && vid >= -3 && vid <= 4094, `vid ${vid}`);
      return vid >= -1;
    },
  },
  readInnerEthertype: {
    templates: ETHERNET_TEMPLATES,
    check(buf, off, length) {
      const type = readInnerEthertype(buf, off, length);
      assert.ok(type === -1 || isU16(type), `type ${type}`);
      return type >= 0;
    },
  },
  decodeEthernet: {
    templates: ETHERNET_TEMPLATES,
    check(buf, off, length) {
      const r = decodeEthernet(buf, off, length);
      if (!r.ok) {
        assert.ok(['truncated', 'qinq', 'reserved-vlan-id'].includes(r.reason));
        return false;
      }
      assert.ok(isMac(r.dstMac) && isMac(r.srcMac) && isU16(r.ethertype));
      assert.ok(r.vlanId >= -1 && r.vlanId <= 4094 && r.pcp >= 0 && r.pcp <= 7);
      assert.equal(r.payloadOffset - off, r.vlanId === -1 ? 14 : 18);
      assert.equal(r.payloadOffset + r.payloadLength, off + length);
      return true;
    },
  },
  decodeArp: {
    templates: [ARP.subarray(14), buildRarpAnnounce(0x525400123456).subarray(14)],
    check(buf, off, length) {
      const r = decodeArp(buf, off, length);
      if (r === null) return false;
      assert.ok(isU16(r.op) && isMac(r.senderMac) && isMac(r.targetMac) && isU32(r.senderIp) && isU32(r.targetIp));
      return true;
    },
  },
  decodeIpv4: {
    templates: [VXLAN_PACKET.subarray(14), GRE_PACKET.subarray(14)],
    reseal(buf, off, length) {
      if (length < 20) return;
      const headerLength = Math.min((buf[off] & 0x0f) * 4, length);
      if (headerLength < 12) return;
      buf.writeUInt16BE(0, off + 10);
      buf.writeUInt16BE(internetChecksum(buf, off, headerLength), off + 10);
    },
    check(buf, off, length, raw) {
      const r = decodeIpv4(buf, off, length);
      if (r === null) return false;
      assert.ok(r.headerLength >= 20 && r.headerLength <= 60 && r.headerLength % 4 === 0);
      assert.equal(internetChecksum(raw, off, r.headerLength), 0);
      assert.ok(r.payloadOffset === off + r.headerLength && r.payloadOffset + r.payloadLength <= off + length);
      assert.ok(isU32(r.src) && isU32(r.dst) && r.ttl >= 0 && r.ttl <= 255 && r.fragmentOffset <= 0x1fff);
      return true;
    },
  },
  decodeUdp: {
    templates: [VXLAN_PACKET.subarray(34), GRE_PACKET.subarray(34)],
    check(buf, off, length) {
      const r = decodeUdp(buf, off, length);
      if (r === null) return false;
      assert.ok(isU16(r.srcPort) && isU16(r.dstPort) && isU16(r.checksum) && r.length >= 8 && r.length <= length);
      assert.ok(r.payloadOffset === off + 8 && r.payloadLength === r.length - 8);
      return true;
    },
  },
  decodeIpv6: {
    templates: neighborFrames(),
    check(buf, off, length) {
      const r = decodeIpv6(buf, off, length);
      if (r === null) return false;
      assert.ok(r.payloadOffset === off + 40 && r.payloadOffset + r.payloadLength <= off + length);
      assert.ok(
        r.flowLabel <= 0xfffff && r.trafficClass <= 0xff && r.srcOffset === off + 8 && r.dstOffset === off + 24,
      );
      return true;
    },
  },
  decodeNeighborMessage: {
    templates: neighborFrames(),
    reseal(buf, off, length) {
      if (length < 44) return;
      const messageLength = Math.min((buf[off + 4] << 8) | buf[off + 5], length - 40);
      buf.writeUInt16BE(0, off + 42);
      buf.writeUInt16BE(icmpv6Checksum(buf, off, messageLength), off + 42);
    },
    check(buf, off, length, raw) {
      const r = decodeNeighborMessage(buf, off, length);
      if (r === null) return false;
      assert.ok(r.type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION || r.type === ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT);
      assert.ok(r.targetOffset === off + 48 && r.targetOffset + 16 <= off + length && raw[r.targetOffset] !== 0xff);
      assert.ok(r.linkLayerMac === -1 || isMac(r.linkLayerMac));
      assert.equal(raw[off + 7], 255);
      assert.equal(icmpv6Checksum(raw, off, (raw[off + 4] << 8) | raw[off + 5]), 0);
      return true;
    },
  },
  readVxlanVni: {
    templates: [vxlanHeader(100), vxlanHeader(0xffffff)],
    check(buf, off, length, raw) {
      const vni = readVxlanVni(buf, off, length);
      assert.ok(vni === -1 || isVni(vni), `vni ${vni}`);
      if (vni >= 0) assert.ok((raw[off] & 0x08) !== 0 && length >= 8);
      return vni >= 0;
    },
  },
  readGreUdpVni: {
    templates: [greHeader(100), greHeader(0xffffff)],
    check(buf, off, length, raw) {
      const vni = readGreUdpVni(buf, off, length);
      assert.ok(vni === -1 || isVni(vni), `vni ${vni}`);
      if (vni >= 0) {
        assert.equal(raw[off] & 0xfc, 0x20, 'only K among C R K S s recur-msb');
        assert.equal(raw[off + 1] & 0x07, 0);
        assert.equal(raw.readUInt16BE(off + 2), 0x6558);
      }
      return vni >= 0;
    },
  },
  decodeTunnelPacket: {
    templates: [VXLAN_PACKET, GRE_PACKET],
    reseal(buf, off, length) {
      if (length < 34) return;
      buf.writeUInt16BE(0, off + 24);
      buf.writeUInt16BE(internetChecksum(buf, off + 14, 20), off + 24);
    },
    check(buf, off, length) {
      const r = decodeTunnelPacket(buf, off, length);
      if (r === null) return false;
      assert.ok(isVni(r.vni) && (r.encap === 'vxlan' || r.encap === 'gre-udp'));
      assert.ok(r.innerLength >= 0 && r.innerOffset + r.innerLength <= off + length);
      return true;
    },
  },
};

describe('frame decoders on random, mutated and truncated input', () => {
  for (const [name, subject] of Object.entries(subjects)) {
    it(`${name}: ${INPUTS_PER_DECODER} inputs, no throw, no out-of-bounds read, null-or-valid`, () => {
      fuzzSubject(name, subject, INPUTS_PER_DECODER);
    });
  }
});

describe('the bounds guard itself', () => {
  it('allows reads inside the window and throws outside it, before or after', () => {
    const guard = boundedView(Buffer.from([1, 2, 3, 4, 5, 6]));
    guard.aim(2, 4, 6);
    assert.equal(guard.view[2], 3);
    assert.equal(guard.view[3], 4);
    assert.equal(guard.view.length, 6);
    for (const index of [1, 4, 5, 6, -1]) assert.throws(() => guard.view[index], OutOfBoundsRead, `index ${index}`);
    assert.throws(() => guard.view[1.5], OutOfBoundsRead);
    assert.throws(() => guard.view[NaN], OutOfBoundsRead);
  });

  it('catches a decoder that trusts its length argument too far', () => {
    const guard = boundedView(Buffer.alloc(16));
    guard.aim(0, 7, 7);
    assert.throws(() => readVxlanVniWithoutBufferCheck(guard.view, 0, 8), OutOfBoundsRead);
    assert.equal(readVxlanVni(guard.view, 0, 8), -1);
  });
});

/** What readVxlanVni would be without its buffer-length check: reads index 7 of 7 bytes. */
function readVxlanVniWithoutBufferCheck(buf: Uint8Array, off: number, length: number): number {
  if (length < 8) return -1;
  return buf[off + 7] === 0 ? (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6] : -1;
}
