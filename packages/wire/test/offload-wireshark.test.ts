// Wireshark as the judge of segmentation and coalescing: segments of IPv4 and
// IPv6 TCP super-frames (options, 802.1Q tag, FIN/PSH/CWR), USO segments, a
// segment inside a VXLAN packet with real outer headers, and a coalesced
// super-frame with its checksum finished as the kernel would, all go into a
// pcap that tshark reads with checksum validation on. tshark must find every
// IPv4, TCP and UDP checksum good, and the sequence numbers, lengths, flags,
// IP ids and options we meant.
//
// Like wireshark-judge.test.ts: a missing tshark fails in CI and skips
// elsewhere. DVS_WIRE_OFFLOAD_PCAP_OUT=<file> keeps a copy of the pcap.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  StridedSlots,
  TcpCoalescer,
  buildPcap,
  buildVxlanPacket,
  completePartialChecksum,
  decodeVirtioNetHeader,
  segmentSuperFrame,
} from '../src/index.js';
import {
  type TcpFrameSpec,
  TYPICAL_OPTIONS,
  buildSuperFrame,
  patternPayload,
  timestampOptions,
} from '../src/testing/index.js';
import { CHECKSUM_GOOD, assertTsharkPresent, runTshark, tsharkSkip } from './tshark.js';

const FIELDS = [
  'ip.checksum.status',
  'tcp.checksum.status',
  'udp.checksum.status',
  'tcp.seq_raw',
  'tcp.len',
  'tcp.flags',
  'ip.id',
  'ip.len',
  'ipv6.plen',
  'vlan.id',
  'vxlan.vni',
  'tcp.options.mss_val',
  'tcp.options.timestamp.tsval',
  'udp.length',
  'tcp.srcport',
] as const;

function segments(spec: TcpFrameSpec, gsoSize: number): Buffer[] {
  const { frame, header } = buildSuperFrame(spec, gsoSize);
  const out = Buffer.alloc(64 * 2048);
  const slots = new StridedSlots(64);
  slots.aim(out, 0, 2048, 64);
  const n = segmentSuperFrame(frame, 0, frame.length, header, slots, 0);
  assert.equal(typeof n, 'number', String(n));
  return Array.from({ length: n as number }, (_, i) =>
    Buffer.from(out.subarray(i * 2048, i * 2048 + slots.lengths[i])),
  );
}

const V4: TcpFrameSpec = {
  version: 4,
  payload: patternPayload(6000),
  options: TYPICAL_OPTIONS,
  flags: 0x80 | 0x10 | 0x08 | 0x01, // CWR ACK PSH FIN
  seq: 0xfffff000,
  id: 0xfffe,
  srcPort: 33001,
};
const V6: TcpFrameSpec = {
  version: 6,
  vlan: 300,
  payload: patternPayload(5000),
  options: timestampOptions(123456),
  seq: 77,
  srcPort: 33002,
};
const USO: TcpFrameSpec = { version: 4, payload: patternPayload(3000), udp: true, srcPort: 33003 };

describe('tshark judges segmentation and coalescing', { skip: tsharkSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvs-wire-offload-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has tshark available', () => assertTsharkPresent());

  it('finds every checksum good and every field where segmentation put it', () => {
    const v4 = segments(V4, 1448); // 5 segments, seq wrapping past 2^32, id wrapping past 0xffff
    const v6 = segments(V6, 1420); // 4 segments
    const uso = segments(USO, 1400); // 3 datagrams
    const outer = {
      srcMac: 0x020000000101,
      dstMac: 0x020000000102,
      srcIp: 0xc0000201,
      dstIp: 0xc0000202,
      srcPort: 50001,
    };
    const tunnelled = buildVxlanPacket({ ...outer, udpChecksum: true }, 4242, v6[1]);
    // Coalesce V6's segments again, then finish the checksum as the kernel behind a TAP would.
    const co = new TcpCoalescer();
    v6.forEach((s, i) => co.push(s, 0, s.length, 1, i));
    let coalesced: Buffer | null = null;
    co.flush({
      frame: () => assert.fail('all four segments merge'),
      superFrame: (_i, buf, off, length) => (coalesced = Buffer.from(buf.subarray(off, off + length))),
    });
    assert.ok(coalesced !== null);
    const whole: Buffer = coalesced;
    const h = decodeVirtioNetHeader(whole, 0, whole.length);
    assert.ok(h.ok);
    const big = whole.subarray(10);
    assert.ok(completePartialChecksum(big, 0, big.length, h) > 0);

    const packets = [...v4, ...v6, ...uso, tunnelled, big];
    const pcapPath = join(dir, 'offload.pcap');
    writeFileSync(pcapPath, buildPcap(packets));
    if (process.env.DVS_WIRE_OFFLOAD_PCAP_OUT) copyFileSync(pcapPath, process.env.DVS_WIRE_OFFLOAD_PCAP_OUT);
    const rows = runTshark(pcapPath, FIELDS, ['tcp.analyze_sequence_numbers:FALSE']);
    assert.equal(rows.length, packets.length);
    const [r4, r6, ru, [tunnel], [superFrame]] = [
      rows.slice(0, 5),
      rows.slice(5, 9),
      rows.slice(9, 12),
      rows.slice(12, 13),
      rows.slice(13),
    ];
    assert.equal(v4.length, 5);
    assert.equal(v6.length, 4);
    assert.equal(uso.length, 3);

    r4.forEach((row, i) => {
      assert.deepEqual(row['ip.checksum.status'], [CHECKSUM_GOOD], `v4 ${i}`);
      assert.deepEqual(row['tcp.checksum.status'], [CHECKSUM_GOOD], `v4 ${i}`);
      assert.deepEqual(row['tcp.seq_raw'], [String((0xfffff000 + i * 1448) % 2 ** 32)]);
      assert.deepEqual(row['tcp.len'], [String(i < 4 ? 1448 : 6000 - 4 * 1448)]);
      assert.deepEqual(row['ip.id'], [`0x${((0xfffe + i) & 0xffff).toString(16).padStart(4, '0')}`]);
      assert.deepEqual(row['ip.len'], [String(20 + 40 + (i < 4 ? 1448 : 208))]);
      assert.deepEqual(row['tcp.options.mss_val'], ['1460'], 'options copied to every segment');
      const flags = Number(row['tcp.flags'][0]);
      assert.equal(flags, i === 0 ? 0x090 : i === 4 ? 0x019 : 0x010, `v4 ${i} flags`);
    });
    r6.forEach((row, i) => {
      assert.deepEqual(row['tcp.checksum.status'], [CHECKSUM_GOOD], `v6 ${i}`);
      assert.deepEqual(row['vlan.id'], ['300']);
      assert.deepEqual(row['tcp.seq_raw'], [String(77 + i * 1420)]);
      assert.deepEqual(row['ipv6.plen'], [String(32 + (i < 3 ? 1420 : 5000 - 3 * 1420))]);
      assert.deepEqual(row['tcp.options.timestamp.tsval'], ['123456']);
    });
    ru.forEach((row, i) => {
      assert.deepEqual(row['ip.checksum.status'], [CHECKSUM_GOOD], `uso ${i}`);
      assert.deepEqual(row['udp.checksum.status'], [CHECKSUM_GOOD], `uso ${i}`);
      assert.deepEqual(row['udp.length'], [String(8 + (i < 2 ? 1400 : 200))]);
    });
    assert.deepEqual(tunnel['vxlan.vni'], ['4242']);
    assert.deepEqual(tunnel['udp.checksum.status'], [CHECKSUM_GOOD]);
    assert.deepEqual(tunnel['tcp.checksum.status'], [CHECKSUM_GOOD]);
    assert.deepEqual(tunnel['tcp.seq_raw'], [String(77 + 1420)]);
    assert.deepEqual(superFrame['tcp.checksum.status'], [CHECKSUM_GOOD], 'the finished super-frame');
    assert.deepEqual(superFrame['tcp.len'], ['5000']);
    assert.deepEqual(superFrame['ipv6.plen'], [String(32 + 5000)]);
    assert.deepEqual(superFrame['tcp.seq_raw'], ['77']);
  });

  it('would notice a wrong checksum: tshark checks the bytes, not our intent', () => {
    const [first] = segments(V4, 1448);
    first[first.length - 1] ^= 0xff;
    const pcapPath = join(dir, 'damaged.pcap');
    writeFileSync(pcapPath, buildPcap([first]));
    const [row] = runTshark(pcapPath, FIELDS);
    assert.notDeepEqual(row['tcp.checksum.status'], [CHECKSUM_GOOD]);
  });
});
