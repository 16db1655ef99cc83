// The sFlow v5 and IPFIX encoders, judged by tshark (not ours): datagrams
// built here are wrapped in UDP to the standard ports, written to a pcap and
// decoded field by field. Plus the bounds: a builder never writes past its
// buffer and says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FlowEndReason,
  IPFIX_DEFAULT_PORT,
  IPFIX_IPV4_RECORD_LENGTH,
  IPFIX_MESSAGE_HEADER_LENGTH,
  IPFIX_SET_HEADER_LENGTH,
  IPFIX_TEMPLATE_SET_LENGTH,
  IF_TYPE_ETHERNET,
  IF_TYPE_TUNNEL,
  IpfixMessageBuilder,
  L2_SEGMENT_VXLAN,
  SFLOW_DEFAULT_PORT,
  SflowDatagramBuilder,
  type IpfixFlowRecord,
  type SflowFlowSample,
} from '../src/flow-export/index.js';
import {
  OUTER_IPV4_HEADERS_LENGTH,
  buildPcap,
  parseIpv4Address,
  parseIpv6Address,
  parseMac,
  writeOuterIpv4Headers,
} from '../src/frames/index.js';
import { assertTsharkPresent, runTshark, tsharkSkip } from './tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'dvs-flow-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function udpFrame(payload: Uint8Array, dstPort: number): Buffer {
  const frame = Buffer.alloc(OUTER_IPV4_HEADERS_LENGTH + payload.length);
  frame.set(payload, OUTER_IPV4_HEADERS_LENGTH);
  const outer = {
    srcMac: parseMac('02:00:00:00:01:01')!,
    dstMac: parseMac('02:00:00:00:01:02')!,
    srcIp: parseIpv4Address('192.0.2.1')!,
    dstIp: parseIpv4Address('192.0.2.2')!,
    srcPort: 40000,
    udpChecksum: true,
  };
  assert.equal(writeOuterIpv4Headers(frame, 0, outer, dstPort, payload.length), OUTER_IPV4_HEADERS_LENGTH);
  return frame;
}

const ipv4 = (text: string): Buffer => {
  const n = parseIpv4Address(text)!;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

const RECORD: IpfixFlowRecord = {
  family: 4,
  src: ipv4('10.0.0.1'),
  dst: ipv4('10.0.0.2'),
  protocol: 17,
  srcPort: 5000,
  dstPort: 6000,
  vni: 100,
  segmentType: L2_SEGMENT_VXLAN,
  ingressInterface: 3,
  ingressInterfaceType: IF_TYPE_ETHERNET,
  egressInterface: 0x1000001,
  egressInterfaceType: IF_TYPE_TUNNEL,
  packets: 20,
  octets: 20 * 1028,
  startMs: 1_764_000_000_123,
  endMs: 1_764_000_001_456,
  endReason: FlowEndReason.Idle,
};

describe('IPFIX messages', { skip: tsharkSkip }, () => {
  it('tshark decodes the templates and an IPv4 and an IPv6 record field by field', () => {
    assertTsharkPresent();
    const buf = Buffer.alloc(1400);
    const b = new IpfixMessageBuilder(buf);
    b.begin({ exportTimeS: 1_764_000_002, sequence: 7, observationDomain: 42 });
    assert.ok(b.templates());
    assert.ok(b.add(RECORD));
    const v6: IpfixFlowRecord = {
      ...RECORD,
      family: 6,
      src: parseIpv6Address('2001:db8::1')!,
      dst: parseIpv6Address('2001:db8::2')!,
      protocol: 6,
      packets: 3,
      octets: 180,
    };
    assert.ok(b.add(v6));
    const length = b.finish();
    assert.equal(
      length,
      IPFIX_MESSAGE_HEADER_LENGTH +
        IPFIX_TEMPLATE_SET_LENGTH +
        2 * IPFIX_SET_HEADER_LENGTH +
        IPFIX_IPV4_RECORD_LENGTH +
        94,
    );
    const pcap = join(dir, 'ipfix.pcap');
    writeFileSync(pcap, buildPcap([udpFrame(buf.subarray(0, length), IPFIX_DEFAULT_PORT)]));
    const fields = [
      'cflow.version',
      'cflow.len',
      'cflow.sequence',
      'cflow.od_id',
      'cflow.srcaddr',
      'cflow.dstaddr',
      'cflow.srcaddrv6',
      'cflow.protocol',
      'cflow.srcport',
      'cflow.dstport',
      'cflow.packets',
      'cflow.octets',
      'cflow.inputint',
      'cflow.outputint',
      'cflow.abstimestart',
      'cflow.flow_end_reason',
      '_ws.expert',
    ] as const;
    const [row] = runTshark(pcap, fields);
    assert.ok(row, 'one packet decoded');
    assert.deepEqual(row['cflow.version'], ['10']);
    assert.deepEqual(row['cflow.len'], [String(length)]);
    assert.deepEqual(row['cflow.sequence'], ['7']);
    assert.deepEqual(row['cflow.od_id'], ['42']);
    assert.deepEqual(row['cflow.srcaddr'], ['10.0.0.1']);
    assert.deepEqual(row['cflow.dstaddr'], ['10.0.0.2']);
    assert.deepEqual(row['cflow.srcaddrv6'], ['2001:db8::1']);
    assert.deepEqual(row['cflow.protocol'], ['17', '6']);
    assert.deepEqual(row['cflow.srcport'], ['5000', '5000']);
    assert.deepEqual(row['cflow.dstport'], ['6000', '6000']);
    assert.deepEqual(row['cflow.packets'], ['20', '3']);
    assert.deepEqual(row['cflow.octets'], [String(20 * 1028), '180']);
    assert.deepEqual(row['cflow.inputint'], ['3', '3']);
    assert.deepEqual(row['cflow.outputint'], [String(0x1000001), String(0x1000001)]);
    assert.equal(row['cflow.abstimestart'].length, 2);
    assert.deepEqual(row['cflow.flow_end_reason'], ['1', '1']);
    assert.deepEqual(row['_ws.expert'], [], 'no expert info (malformed, unknown template)');
  });
});

describe('IPFIX builder bounds', () => {
  it('refuses a record that does not fit and the message stays well formed', () => {
    const buf = Buffer.alloc(IPFIX_MESSAGE_HEADER_LENGTH + IPFIX_SET_HEADER_LENGTH + IPFIX_IPV4_RECORD_LENGTH + 10);
    const b = new IpfixMessageBuilder(buf);
    b.begin({ exportTimeS: 1, sequence: 0, observationDomain: 1 });
    assert.equal(b.templates(), false);
    assert.ok(b.add(RECORD));
    assert.equal(b.add(RECORD), false);
    const length = b.finish();
    assert.equal(length, IPFIX_MESSAGE_HEADER_LENGTH + IPFIX_SET_HEADER_LENGTH + IPFIX_IPV4_RECORD_LENGTH);
    assert.equal(buf.readUInt16BE(2), length);
    assert.equal(buf.readUInt16BE(IPFIX_MESSAGE_HEADER_LENGTH + 2), IPFIX_SET_HEADER_LENGTH + IPFIX_IPV4_RECORD_LENGTH);
  });
});

const SAMPLED = Buffer.alloc(98);
{
  // An Ethernet + IPv4 + ICMP frame head, enough for tshark to name the inner protocol.
  SAMPLED.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  SAMPLED.set([0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
}

describe('sFlow v5 datagrams', { skip: tsharkSkip }, () => {
  it('tshark decodes a flow sample with its header and VNI and a counter sample', () => {
    assertTsharkPresent();
    const buf = Buffer.alloc(1400);
    const b = new SflowDatagramBuilder(buf);
    b.begin({ agentAddress: ipv4('198.51.100.1'), subAgentId: 0, sequence: 9, uptimeMs: 12345 });
    const flow: SflowFlowSample = {
      sequence: 4,
      sourceIndex: 3,
      samplingRate: 1000,
      samplePool: 4000,
      drops: 0,
      input: 3,
      output: 0x1000001,
      frameLength: 98,
      header: SAMPLED.subarray(0, 98),
      vniEgress: 100,
      vniIngress: -1,
    };
    assert.ok(b.addFlow(flow));
    assert.ok(
      b.addCounters({
        sequence: 2,
        ifIndex: 3,
        ifType: 6,
        ifSpeed: 10_000_000_000,
        ifDirection: 1,
        ifStatus: 3,
        inOctets: 2 ** 40 + 5,
        inUnicast: 10,
        inMulticast: 0,
        inBroadcast: 1,
        inDiscards: 0,
        inErrors: 0,
        inUnknownProtos: 0,
        outOctets: 77,
        outUnicast: 11,
        outMulticast: 0,
        outBroadcast: 0,
        outDiscards: 0,
        outErrors: 0,
        promiscuous: 0,
      }),
    );
    const length = b.finish();
    const pcap = join(dir, 'sflow.pcap');
    writeFileSync(pcap, buildPcap([udpFrame(buf.subarray(0, length), SFLOW_DEFAULT_PORT)]));
    const fields = [
      'sflow_245.version',
      'sflow_245.agent',
      'sflow_245.sequence_number',
      'sflow_245.numsamples',
      'sflow_245.sampletype',
      'sflow.flow_sample.sampling_rate',
      'sflow.flow_sample.sample_pool',
      'sflow.flow_sample.input_interface',
      'sflow_245.header.frame_length',
      'sflow_245.header.sampled_header_length',
      'sflow_245.flow_record_format',
      'sflow_245.ifindex',
      'sflow_245.ifinoct',
      'ip.src',
      'icmp.type',
      '_ws.expert',
      '_ws.malformed',
    ] as const;
    const [row] = runTshark(pcap, fields);
    assert.ok(row, 'one packet decoded');
    assert.deepEqual(row['sflow_245.version'], ['5']);
    assert.deepEqual(row['sflow_245.agent'], ['198.51.100.1']);
    assert.deepEqual(row['sflow_245.sequence_number'], ['9']);
    assert.deepEqual(row['sflow_245.numsamples'], ['2']);
    assert.deepEqual(row['sflow.flow_sample.sampling_rate'], ['1000']);
    assert.deepEqual(row['sflow.flow_sample.sample_pool'], ['4000']);
    assert.deepEqual(row['sflow.flow_sample.input_interface'], ['3']);
    assert.deepEqual(row['sflow_245.header.frame_length'], ['98']);
    assert.deepEqual(row['sflow_245.header.sampled_header_length'], ['98']);
    assert.deepEqual(row['sflow_245.flow_record_format'].length, 2, 'the raw header and the VNI record');
    assert.deepEqual(row['sflow_245.ifindex'], ['3']);
    assert.deepEqual(row['sflow_245.ifinoct'], [String(2 ** 40 + 5)]);
    assert.deepEqual(row['ip.src'], ['192.0.2.1', '10.0.0.1'], 'the sampled header is decoded as a frame');
    assert.deepEqual(row['_ws.malformed'], []);
  });
});
