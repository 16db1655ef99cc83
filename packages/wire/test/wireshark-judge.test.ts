// Wireshark as the judge: our VXLAN and GRE-in-UDP packets, with real outer
// Ethernet/IPv4/UDP headers, go into a pcap file that tshark decodes with its
// own dissectors; we assert what tshark read, field by field. tshark 4.0
// recognises UDP port 4754 as GRE-in-UDP by itself (no decode-as needed).
//
// In CI (process.env.CI set) a missing tshark fails this test; elsewhere it is
// skipped with the reason. DVS_WIRE_PCAP_OUT=<file> keeps a copy of the pcap.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ETHERTYPE_IPV4,
  IP_PROTOCOL_ICMP,
  type OuterIpv4Fields,
  buildArpReply,
  buildArpRequest,
  buildGreUdpPacket,
  buildPcap,
  buildRarpAnnounce,
  buildVxlanPacket,
  decodeArp,
  decodeTunnelPacket,
  formatIpv4Address,
  formatMac,
  internetChecksum,
  parseIpv4Address,
  parseIpv6Address,
  parseMac,
  pushVlanTag,
  writeEthernetHeader,
  writeIpv4Header,
  writeNeighborSolicitation,
} from '../src/frames/index.js';
import {
  CHECKSUM_GOOD,
  type TsharkRow,
  assertTsharkPresent,
  runTshark as runTsharkFields,
  tsharkSkip,
} from './tshark.js';

const MAC_A = parseMac('02:00:00:00:00:0a')!;
const MAC_B = parseMac('02:00:00:00:00:0b')!;
const IP_A = parseIpv4Address('198.51.100.10')!;
const IP_B = parseIpv4Address('198.51.100.11')!;
const OUTER: OuterIpv4Fields = {
  srcMac: parseMac('02:00:00:00:01:01')!,
  dstMac: parseMac('02:00:00:00:01:02')!,
  srcIp: parseIpv4Address('192.0.2.1')!,
  dstIp: parseIpv4Address('192.0.2.2')!,
  srcPort: 49153,
};

/** Inner Ethernet + IPv4 + ICMP echo (type 8 request / 0 reply), checksums computed. */
function icmpEchoFrame(srcMac: number, dstMac: number, src: number, dst: number, type: number, seq: number): Buffer {
  const icmpLength = 8 + 16;
  const frame = Buffer.alloc(14 + 20 + icmpLength);
  writeEthernetHeader(frame, 0, dstMac, srcMac, ETHERTYPE_IPV4);
  writeIpv4Header(frame, 14, { src, dst, protocol: IP_PROTOCOL_ICMP, payloadLength: icmpLength, identification: seq });
  const icmp = 34;
  frame[icmp] = type;
  frame.writeUInt16BE(0x1234, icmp + 4);
  frame.writeUInt16BE(seq, icmp + 6);
  for (let i = 0; i < 16; i++) frame[icmp + 8 + i] = i;
  frame.writeUInt16BE(internetChecksum(frame, icmp, icmpLength), icmp + 2);
  return frame;
}

function taggedFrame(frame: Buffer, vid: number, pcp: number): Buffer {
  const buf = Buffer.concat([Buffer.alloc(4), frame]);
  assert.equal(pushVlanTag(buf, 4, frame.length, vid, pcp), 0);
  return buf;
}

function neighborSolicitation(): Buffer {
  const frame = Buffer.alloc(86);
  const srcIp = parseIpv6Address('2001:db8::a')!;
  const targetIp = parseIpv6Address('2001:db8::b')!;
  assert.equal(writeNeighborSolicitation(frame, 0, { srcMac: MAC_A, srcIp, targetIp }), 86);
  return frame;
}

const FIELDS = [
  'udp.dstport',
  'udp.checksum.status',
  'ip.checksum.status',
  'vxlan.vni',
  'gre.key',
  'gre.proto',
  'eth.src',
  'eth.dst',
  'vlan.id',
  'vlan.priority',
  'arp.opcode',
  'arp.src.hw_mac',
  'arp.dst.hw_mac',
  'arp.src.proto_ipv4',
  'arp.dst.proto_ipv4',
  'ip.src',
  'ip.dst',
  'icmp.type',
  'icmp.seq',
  'icmp.checksum.status',
  'icmpv6.type',
  'icmpv6.checksum.status',
  'icmpv6.nd.ns.target_address',
  'icmpv6.opt.linkaddr',
] as const;
type Row = TsharkRow<(typeof FIELDS)[number]>;

function runTshark(pcapPath: string): Row[] {
  return runTsharkFields(pcapPath, FIELDS);
}

describe('tshark decodes our tunnel packets', { skip: tsharkSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvs-wire-pcap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const packets = [
    buildVxlanPacket(OUTER, 100, buildArpRequest(MAC_A, IP_A, IP_B)),
    buildGreUdpPacket(OUTER, 4242, buildArpReply(MAC_B, IP_B, MAC_A, IP_A)),
    buildVxlanPacket({ ...OUTER, udpChecksum: true }, 16777215, icmpEchoFrame(MAC_A, MAC_B, IP_A, IP_B, 8, 1)),
    buildGreUdpPacket({ ...OUTER, udpChecksum: true }, 1, icmpEchoFrame(MAC_B, MAC_A, IP_B, IP_A, 0, 1)),
    buildVxlanPacket(OUTER, 0x123456, taggedFrame(buildRarpAnnounce(MAC_A), 100, 5)),
    buildGreUdpPacket(OUTER, 7, neighborSolicitation()),
  ];

  it('has tshark available', () => {
    assertTsharkPresent();
  });

  it('reads the VNI, GRE key and protocol, inner MACs and addresses we wrote', () => {
    const pcapPath = join(dir, 'tunnels.pcap');
    writeFileSync(pcapPath, buildPcap(packets));
    if (process.env.DVS_WIRE_PCAP_OUT) copyFileSync(pcapPath, process.env.DVS_WIRE_PCAP_OUT);
    const rows = runTshark(pcapPath);
    assert.equal(rows.length, packets.length);
    const [arpRequest, arpReply, echoRequest, echoReply, rarp, ns] = rows;

    // Every packet: outer MACs first, then the inner ones; valid outer IPv4 checksum.
    for (const row of rows) {
      assert.deepEqual(row['eth.src'].slice(0, 1), ['02:00:00:00:01:01']);
      assert.deepEqual(row['eth.dst'].slice(0, 1), ['02:00:00:00:01:02']);
      assert.equal(row['ip.src'][0], '192.0.2.1');
      assert.equal(row['ip.dst'][0], '192.0.2.2');
      assert.equal(row['ip.checksum.status'][0], CHECKSUM_GOOD);
    }

    // 1: VXLAN, VNI 100, inner ARP request A → broadcast.
    assert.deepEqual(arpRequest['udp.dstport'], ['4789']);
    assert.deepEqual(arpRequest['vxlan.vni'], ['100']);
    assert.deepEqual(arpRequest['gre.key'], []);
    assert.deepEqual(arpRequest['eth.src'], ['02:00:00:00:01:01', '02:00:00:00:00:0a']);
    assert.deepEqual(arpRequest['eth.dst'], ['02:00:00:00:01:02', 'ff:ff:ff:ff:ff:ff']);
    assert.deepEqual(arpRequest['arp.opcode'], ['1']);
    assert.deepEqual(arpRequest['arp.src.proto_ipv4'], ['198.51.100.10']);
    assert.deepEqual(arpRequest['arp.dst.proto_ipv4'], ['198.51.100.11']);

    // 2: GRE-in-UDP, key = 4242 << 8 = 0x00109200, protocol TEB, inner ARP reply B → A.
    assert.deepEqual(arpReply['udp.dstport'], ['4754']);
    assert.deepEqual(arpReply['vxlan.vni'], []);
    assert.equal(Number(arpReply['gre.key'][0]), 4242 * 256);
    assert.equal(Number(arpReply['gre.proto'][0]), 0x6558);
    assert.deepEqual(arpReply['eth.src'].slice(1), ['02:00:00:00:00:0b']);
    assert.deepEqual(arpReply['eth.dst'].slice(1), ['02:00:00:00:00:0a']);
    assert.deepEqual(arpReply['arp.opcode'], ['2']);
    assert.deepEqual(arpReply['arp.src.hw_mac'], ['02:00:00:00:00:0b']);
    assert.deepEqual(arpReply['arp.src.proto_ipv4'], ['198.51.100.11']);

    // 3: VXLAN, top VNI, UDP checksum on, inner IPv4/ICMP echo request A → B.
    assert.deepEqual(echoRequest['vxlan.vni'], ['16777215']);
    assert.deepEqual(echoRequest['udp.checksum.status'], [CHECKSUM_GOOD]);
    assert.deepEqual(echoRequest['ip.src'], ['192.0.2.1', '198.51.100.10']);
    assert.deepEqual(echoRequest['ip.dst'], ['192.0.2.2', '198.51.100.11']);
    assert.deepEqual(echoRequest['ip.checksum.status'], [CHECKSUM_GOOD, CHECKSUM_GOOD]);
    assert.deepEqual(echoRequest['icmp.type'], ['8']);
    assert.deepEqual(echoRequest['icmp.checksum.status'], [CHECKSUM_GOOD]);

    // 4: GRE-in-UDP, VNI 1 (key 0x100), UDP checksum on, inner ICMP echo reply B → A.
    assert.equal(Number(echoReply['gre.key'][0]), 0x100);
    assert.equal(Number(echoReply['gre.proto'][0]), 0x6558);
    assert.deepEqual(echoReply['udp.checksum.status'], [CHECKSUM_GOOD]);
    assert.deepEqual(echoReply['ip.src'], ['192.0.2.1', '198.51.100.11']);
    assert.deepEqual(echoReply['icmp.type'], ['0']);

    // 5: VXLAN, inner 802.1Q VID 100 PCP 5 carrying QEMU's RARP announce.
    assert.deepEqual(rarp['vxlan.vni'], [String(0x123456)]);
    assert.deepEqual(rarp['vlan.id'], ['100']);
    assert.deepEqual(rarp['vlan.priority'], ['5']);
    assert.deepEqual(rarp['arp.opcode'], ['3']);
    assert.deepEqual(rarp['arp.src.hw_mac'], ['02:00:00:00:00:0a']);
    assert.deepEqual(rarp['arp.dst.hw_mac'], ['02:00:00:00:00:0a']);
    assert.deepEqual(rarp['eth.dst'].slice(1), ['ff:ff:ff:ff:ff:ff']);

    // 6: GRE-in-UDP, inner ICMPv6 neighbour solicitation with a valid checksum.
    assert.equal(Number(ns['gre.key'][0]), 7 * 256);
    assert.deepEqual(ns['eth.dst'].slice(1), ['33:33:ff:00:00:0b']);
    assert.deepEqual(ns['icmpv6.type'], ['135']);
    assert.deepEqual(ns['icmpv6.checksum.status'], [CHECKSUM_GOOD]);
    assert.deepEqual(ns['icmpv6.nd.ns.target_address'], ['2001:db8::b']);
    assert.deepEqual(ns['icmpv6.opt.linkaddr'], ['02:00:00:00:00:0a']);
  });

  it('agrees with our decoders on random tunnel packets', () => {
    // One tshark run over 64 packets with random encap, VNI, flow of MACs and
    // addresses: tshark's reading, the fields we built with, and what our own
    // decoders read back must all be the same.
    const cases = fc.sample(
      fc.record({
        encap: fc.constantFrom('vxlan' as const, 'gre-udp' as const),
        vni: fc.integer({ min: 1, max: 16777215 }),
        // Unicast sender MAC (I/G bit clear), any addresses.
        senderMac: fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((m) => m - (Math.floor(m / 2 ** 40) & 1) * 2 ** 40),
        senderIp: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        targetIp: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        outerSrc: fc.integer({ min: 1, max: 2 ** 32 - 2 }),
        srcPort: fc.integer({ min: 49152, max: 65535 }),
      }),
      { numRuns: 64, seed: 0x64d5 },
    );
    const packets = cases.map((c) => {
      const outer = { ...OUTER, srcIp: c.outerSrc, srcPort: c.srcPort };
      const inner = buildArpRequest(c.senderMac, c.senderIp, c.targetIp);
      return c.encap === 'vxlan' ? buildVxlanPacket(outer, c.vni, inner) : buildGreUdpPacket(outer, c.vni, inner);
    });
    const pcapPath = join(dir, 'random.pcap');
    writeFileSync(pcapPath, buildPcap(packets));
    const rows = runTshark(pcapPath);
    assert.equal(rows.length, cases.length);
    cases.forEach((c, i) => {
      const row = rows[i];
      const ours = decodeTunnelPacket(packets[i], 0, packets[i].length);
      assert.ok(ours !== null, `packet ${i}`);
      const arp = decodeArp(packets[i], ours.innerOffset + 14, ours.innerLength - 14);
      assert.ok(arp !== null, `packet ${i}`);
      const tsharkVni = c.encap === 'vxlan' ? Number(row['vxlan.vni'][0]) : Number(row['gre.key'][0]) / 256;
      assert.deepEqual(
        [tsharkVni, row['eth.src'][1], row['arp.src.proto_ipv4'][0], row['arp.dst.proto_ipv4'][0], row['ip.src'][0]],
        [
          c.vni,
          formatMac(c.senderMac),
          formatIpv4Address(c.senderIp),
          formatIpv4Address(c.targetIp),
          formatIpv4Address(c.outerSrc),
        ],
        `packet ${i}: tshark vs built`,
      );
      assert.deepEqual(
        [ours.vni, ours.encap, ours.udp.srcPort, arp.senderMac, arp.senderIp, arp.targetIp],
        [c.vni, c.encap, c.srcPort, c.senderMac, c.senderIp, c.targetIp],
        `packet ${i}: our decoders vs built`,
      );
      if (c.encap === 'gre-udp') assert.equal(Number(row['gre.proto'][0]), 0x6558);
    });
  });

  it('would notice a wrong VNI: tshark reads the bytes, not our intent', () => {
    const packet = buildVxlanPacket(OUTER, 100, buildArpRequest(MAC_A, IP_A, IP_B));
    packet[42 + 6] = 101; // VNI byte in the VXLAN header
    const pcapPath = join(dir, 'mutated.pcap');
    writeFileSync(pcapPath, buildPcap([packet]));
    assert.deepEqual(runTshark(pcapPath)[0]['vxlan.vni'], ['101']);
  });
});
