/**
 * GRE-in-UDP between two dvs agents (VNI 300), and a tshark capture on the
 * underlay that decodes it: GRE key = VNI << 8 (NVGRE-style), protocol
 * 0x6558 (transparent Ethernet bridging), and the inner ICMP echo.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { tsharkCapture } from '../support/capture.js';
import { NetnsLab } from '../support/netns-lab.js';
import { run } from '../support/run-command.js';
import { pings, plugVm } from '../support/vm-setup.js';

const lab = new NetnsLab('dvag');
let hostA: string;
let vmA: string;
let vmB: string;
const agents: AgentProcess[] = [];

before(async () => {
  hostA = await lab.netns('ha');
  const hostB = await lab.netns('hb');
  await lab.veth(hostA, lab.name('ua'), '198.51.100.1/24', hostB, lab.name('ub'), '198.51.100.2/24');
  for (const [host, self, peer, tap] of [
    [hostA, '198.51.100.1', '198.51.100.2', lab.name('a1')],
    [hostB, '198.51.100.2', '198.51.100.1', lab.name('b1')],
  ] as const) {
    agents.push(
      await startAgent(lab, host, `agent-${tap}`, {
        host: `host-${self.split('.')[3]}`,
        vtep: { address: self },
        networks: [{ vni: 300, encap: 'gre-udp', mtu: 1450, peers: [peer] }],
        ports: [{ name: tap, vni: 300 }],
      }),
    );
  }
  vmA = await lab.netns('va1');
  vmB = await lab.netns('vb1');
  await plugVm(lab, hostA, lab.name('a1'), vmA, ['192.0.2.11/24']);
  await plugVm(lab, hostB, lab.name('b1'), vmB, ['192.0.2.21/24']);
});

after(async () => {
  await lab.cleanup();
});

test('VMs ping over GRE-in-UDP and tshark decodes key = VNI << 8 with the inner ICMP', async () => {
  const capture = await tsharkCapture(lab, hostA, lab.name('ua'), 'udp port 4754', 'gre');
  assert.ok(await pings(lab, vmA, '192.0.2.21'), 'a1 → b1 over GRE-in-UDP');
  const pcap = await capture.stop();
  const decoded = await run([
    'tshark',
    '-r',
    pcap,
    '-d',
    'udp.port==4754,gre',
    '-Y',
    'icmp',
    '-T',
    'fields',
    '-E',
    'separator=,',
    '-e',
    'udp.dstport',
    '-e',
    'gre.proto',
    '-e',
    'gre.key',
    '-e',
    'icmp.type',
  ]);
  const rows = decoded.stdout.trim().split('\n').filter(Boolean);
  assert.ok(rows.length >= 2, `tshark decoded ICMP inside GRE-in-UDP: ${decoded.stdout}`);
  for (const row of rows) {
    const [port, proto, key, icmp] = row.split(',');
    assert.equal(port, '4754');
    assert.equal(Number(proto), 0x6558, 'transparent Ethernet bridging');
    assert.equal(Number(key), 300 * 256, 'GRE key = VNI << 8');
    assert.ok(icmp === '8' || icmp === '0', 'inner ICMP echo request/reply');
  }
  assert.ok(rows.some((r) => r.endsWith(',8')) && rows.some((r) => r.endsWith(',0')), 'both directions captured');
});
