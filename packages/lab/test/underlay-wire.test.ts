/**
 * The wire check's verdict from tshark's text (underlay-wire.ts), and its
 * summary over runs in the datapath benchmark's report: fixed lines in the
 * format tshark 4.0 prints for tsharkWireArgs (fields tab-separated, every
 * occurrence joined by "|", outermost first). The real capture is exercised
 * by the benchmark and by the agent-kernel-interop e2e test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXPERT_SEVERITY_ERROR,
  WIRE_FIELDS,
  describeWireVerdict,
  judgeUnderlayWire,
  parseHeuristicDecodes,
  tsharkWireArgs,
  underlayCaptureFilter,
} from '../src/underlay-wire.js';
import { pathEncap, renderMarkdown, summarize, summarizeWire, type RunRecord } from '../src/datapath-bench/index.js';

const WARN = String(0x00600000);
const VXLAN_TCP = 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp:data';
const VXLAN_ACK = 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp';
const GRE_TCP = 'eth:ethertype:ip:udp:gre:eth:ethertype:ip:tcp:data';

/** One tshark line: protocols, ip.len, tcp.len, _ws.malformed, severities, messages. */
function line(
  protocols: string,
  ipLens: number[],
  tcpLen: number | null,
  malformed = '',
  severities: string[] = [],
  messages: string[] = [],
): string {
  return [
    protocols,
    ipLens.join('|'),
    tcpLen === null ? '' : String(tcpLen),
    malformed,
    severities.join('|'),
    messages.join('|'),
  ].join('\t');
}

const clean = [
  line(VXLAN_TCP, [1500, 1450], 1398, '', [WARN], ['Previous segment(s) not captured (common at capture start)']),
  line(VXLAN_TCP, [1500, 1450], 1398),
  line(VXLAN_ACK, [102, 52], 0),
  line(VXLAN_TCP, [1252, 1202], 1150),
].join('\n');

test('a clean VXLAN sample passes: counts, largest outer length, warnings are not errors', () => {
  const v = judgeUnderlayWire(clean + '\n', { mtu: 1500, encap: 'vxlan' });
  assert.equal(v.datagrams, 4);
  assert.equal(v.carryingTcp, 3, 'the bare ACK carries no TCP payload');
  assert.equal(v.largestIpLength, 1500, 'the outer length, not the inner');
  assert.deepEqual([v.overMtu, v.undecoded, v.decodeErrors], [0, 0, 0]);
  assert.equal(v.pass, true);
  assert.match(describeWireVerdict(v), /^PASS 4 datagrams \(3 with inner TCP\), largest IP 1500 B ≤ MTU 1500/);
});

test('one datagram over the MTU fails the sample and is named', () => {
  const v = judgeUnderlayWire(clean + '\n' + line(VXLAN_TCP, [64796, 1450], 1398), { mtu: 1500, encap: 'vxlan' });
  assert.equal(v.overMtu, 1);
  assert.equal(v.largestIpLength, 64796);
  assert.equal(v.pass, false);
  assert.deepEqual(v.problems, ['datagram 5: IP length 64796 > MTU 1500']);
  assert.match(describeWireVerdict(v), /^FAIL .* > MTU 1500/);
});

test('malformed, error-level expert findings and undecoded datagrams each fail', () => {
  const malformed = judgeUnderlayWire(line(VXLAN_TCP, [1500, 1450], 1398, 'Malformed Packet'), {
    mtu: 1500,
    encap: 'vxlan',
  });
  assert.equal(malformed.decodeErrors, 1);
  assert.equal(malformed.pass, false);
  const error = judgeUnderlayWire(
    line(VXLAN_TCP, [1500, 1450], 1398, '', [WARN, String(EXPERT_SEVERITY_ERROR)], ['a warning', 'Bogus IP length']),
    { mtu: 1500, encap: 'vxlan' },
  );
  assert.equal(error.decodeErrors, 1);
  assert.deepEqual(error.problems, ['datagram 1: Bogus IP length'], 'the error, not the warning, is named');
  // A UDP datagram on the port that tshark could not read as VXLAN + Ethernet.
  const undecoded = judgeUnderlayWire(line('eth:ethertype:ip:udp:data', [200], null), { mtu: 1500, encap: 'vxlan' });
  assert.equal(undecoded.undecoded, 1);
  assert.equal(undecoded.pass, false);
});

test('GRE-in-UDP is judged as GRE: a VXLAN stack on the GRE port is not decoded', () => {
  const gre = judgeUnderlayWire(line(GRE_TCP, [1500, 1450], 1398), { mtu: 1500, encap: 'gre-udp' });
  assert.equal(gre.pass, true);
  const wrong = judgeUnderlayWire(line(VXLAN_TCP, [1500, 1450], 1398), { mtu: 1500, encap: 'gre-udp' });
  assert.equal(wrong.undecoded, 1);
  assert.ok(tsharkWireArgs('x.pcap', 'gre-udp').includes('udp.port==4754,gre'), 'tshark is told GRE on 4754');
  assert.ok(!tsharkWireArgs('x.pcap', 'vxlan').includes('-d'));
  assert.equal(underlayCaptureFilter('gre-udp'), 'udp port 4754');
  assert.equal(underlayCaptureFilter('vxlan'), 'udp port 4789');
  const args = tsharkWireArgs('x.pcap', 'vxlan');
  assert.deepEqual(
    args.filter((_, i) => args[i - 1] === '-e'),
    [...WIRE_FIELDS],
    'the fields are read in the order the parser expects',
  );
});

test('an empty capture, or one without TCP payload, does not pass', () => {
  const empty = judgeUnderlayWire('', { mtu: 1500, encap: 'vxlan' });
  assert.equal(empty.pass, false);
  assert.deepEqual(empty.problems, ['the capture holds no datagram']);
  const acks = judgeUnderlayWire(line(VXLAN_ACK, [102, 52], 0), { mtu: 1500, encap: 'vxlan' });
  assert.equal(acks.pass, false);
  assert.deepEqual(acks.problems, ['no datagram carried inner TCP payload']);
});

test('the report sums a path’s wire samples over runs and fails it if any run failed', () => {
  const pass = judgeUnderlayWire(clean, { mtu: 1500, encap: 'vxlan' });
  const fail = judgeUnderlayWire(line(VXLAN_TCP, [2972, 1450], 1398), { mtu: 1500, encap: 'vxlan' });
  const runs: RunRecord[] = [
    { run: 1, samples: {}, wire: { 'dvs-vxlan': pass, 'kernel-vxlan': pass } },
    { run: 2, samples: {}, wire: { 'dvs-vxlan': fail, 'kernel-vxlan': pass } },
  ];
  const w = summarizeWire(runs);
  assert.deepEqual(
    [w['dvs-vxlan']?.runs, w['dvs-vxlan']?.passedRuns, w['dvs-vxlan']?.datagrams, w['dvs-vxlan']?.largestIpLength],
    [2, 1, 5, 2972],
  );
  assert.equal(w['dvs-vxlan']?.pass, false);
  assert.deepEqual(w['dvs-vxlan']?.problems, ['run 2: datagram 1: IP length 2972 > MTU 1500']);
  assert.equal(w['kernel-vxlan']?.pass, true);
  const summary = summarize(runs);
  const target = summary.targets.find((t) => t.what.startsWith('the wire'));
  assert.equal(target?.met, false);
  assert.equal(target?.figure, 'FAIL on dvs-vxlan');
  const md = renderMarkdown(summary, {}, 2);
  assert.match(md, /\| dvs-vxlan \| 1\/2 \| 5 \| 4 \| 2972 \/ 1500 \| 1 \| 0 \| 0 \| \*\*FAIL\*\* \|/);
  assert.match(md, /\| kernel-vxlan \| 2\/2 \| 8 \| 6 \| 1500 \/ 1500 \| 0 \| 0 \| 0 \| PASS \|/);
  assert.doesNotMatch(
    renderMarkdown(summarize([{ run: 1, samples: {} }]), {}, 1),
    /## The wire/,
    'no section without samples',
  );
});

test('payload heuristics: the protocols of enabled TCP and UDP heuristics, once each, never the wire’s own layers', () => {
  const listing = [
    'tcp\tthrift\tT',
    'udp\tthrift\tT',
    'tcp\txml\tF',
    'udp\tstun\tT',
    'udp\tvxlan\tT',
    'eth\tcbor\tT',
    '',
  ].join('\n');
  const names = parseHeuristicDecodes(listing);
  assert.deepEqual(names, ['thrift', 'stun'], 'disabled ones, other tables and vxlan are left alone');
  const args = tsharkWireArgs('x.pcap', 'vxlan', names);
  assert.deepEqual(args.slice(3, 7), ['--disable-protocol', 'thrift', '--disable-protocol', 'stun']);
});

test('each bench path is judged as the encapsulation it puts on its underlay; the direct veth has none', () => {
  assert.equal(pathEncap('veth'), null);
  assert.equal(pathEncap('dvs-gre-udp'), 'gre-udp');
  for (const name of ['kernel-vxlan', 'dvs-vxlan', 'dvs-kernel', 'dvs-vxlan-rspan', 'ovs-userspace'] as const)
    assert.equal(pathEncap(name), 'vxlan', name);
});
