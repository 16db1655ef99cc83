/**
 * GRE-in-UDP between two dvs agents (VNI 300), and a tshark capture on the
 * underlay that decodes it: GRE key = VNI << 8 (NVGRE-style), protocol
 * 0x6558 (transparent Ethernet bridging), and the inner ICMP echo; then a
 * TCP stream over it. Both run with the agents' offloads on and off
 * (support/offloads.ts), each in a lab of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentProcess } from '../support/agent-process.js';
import { tsharkCapture } from '../support/capture.js';
import { NetnsLab } from '../support/netns-lab.js';
import { run } from '../support/run-command.js';
import { twoAgentsOneVmEach } from '../support/two-hosts.js';
import { pings, tcpTransfer } from '../support/vm-setup.js';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';

/** The whole file, with the agents' offloads on or off. */
function agentGre(mode: OffloadsMode): void {
  const lab = new NetnsLab(mode === 'on' ? 'dvag' : 'dvgf');
  const named = (what: string) => `${what} (offloads ${mode})`;
  let hostA: string;
  let vmA: string;
  let vmB: string;
  let agents: AgentProcess[] = [];

  before(async () => {
    const two = await twoAgentsOneVmEach(lab, { network: { vni: 300, encap: 'gre-udp', mtu: 1450 }, offloads: mode });
    ({ hostA, vmA, vmB } = two);
    agents = [two.agentA, two.agentB];
  });

  after(async () => {
    await lab.cleanup();
  });

  test(named('VMs ping over GRE-in-UDP and tshark decodes key = VNI << 8 with the inner ICMP'), async () => {
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

  test(named('a 4 MiB TCP stream over GRE-in-UDP arrives intact; the ports and sockets are in the mode'), async () => {
    const greSocket = async () => (await agents[1].call('sockets/show')).find((x) => x.encap === 'gre-udp');
    const before = await greSocket();
    const { sent, received } = await tcpTransfer(lab, vmB, '192.0.2.21', vmA, 4 * 1024 * 1024);
    assert.deepEqual(received, sent, 'a1 → b1: every byte arrived, intact');
    const after = await greSocket();
    assert.ok(before !== undefined && after !== undefined, 'host B reports its GRE-in-UDP socket');
    const a1 = (await agents[0].call('ports/show')).find((p) => p.name === lab.name('a1'));
    const b1 = (await agents[1].call('ports/show')).find((p) => p.name === lab.name('b1'));
    assert.ok(a1 !== undefined && b1 !== undefined);
    await assertOffloadsState(mode, { ns: vmA, port: a1 }, await agents[0].call('sockets/show'));
    await assertOffloadsState(mode, { ns: vmB, port: b1 }, [after]);
    const groReads = after.groMessages - before.groMessages;
    if (mode === 'on') {
      assert.ok((a1.offloads?.superFrames ?? 0) > 0, "a1's TAP handed the agent super-frames");
      assert.ok(groReads > 0, 'host B read super-datagrams of GRE-in-UDP');
      assert.ok((b1.offloads?.coalesced ?? 0) > 0, 'b1 got coalesced super-frames');
    } else {
      assert.equal(groReads, 0, 'no super-datagram read');
      assert.ok(after.datagramsIn - before.datagramsIn >= sent.bytes / 1450, 'the stream came as MTU-sized datagrams');
    }
  });
}

for (const mode of offloadModes()) describe(`GRE-in-UDP between dvs agents (offloads ${mode})`, () => agentGre(mode));
