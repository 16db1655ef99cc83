/**
 * dvs-agent over an IPv6 underlay (2001:db8::/64): two agents, VXLAN VNI 100,
 * VMs ping and pass a short iperf3 run; the overlay MTU is the underlay MTU −
 * 70 (outer IPv6 is 20 bytes longer than IPv4). With the agents' offloads
 * on (UDP GSO and GRO over IPv6) and off (support/offloads.ts), each in a lab
 * of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentProcess } from '../support/agent-process.js';
import { NetnsLab } from '../support/netns-lab.js';
import { twoAgentsOneVmEach } from '../support/two-hosts.js';
import { iperf3, pings, tcpTransfer } from '../support/vm-setup.js';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';

/** The whole file, with the agents' offloads on or off. */
function ipv6Underlay(mode: OffloadsMode): void {
  const lab = new NetnsLab(mode === 'on' ? 'dva6' : 'dv6f');
  const named = (what: string) => `${what} (offloads ${mode})`;
  let vmA: string;
  let vmB: string;
  let agentA: AgentProcess;
  let agentB: AgentProcess;

  before(async () => {
    ({ agentA, agentB, vmA, vmB } = await twoAgentsOneVmEach(lab, {
      network: { vni: 100, encap: 'vxlan', mtu: 1430 },
      offloads: mode,
      ipv6: true,
    }));
  });

  after(async () => {
    await lab.cleanup();
  });

  test(named('VMs ping and pass iperf3 over VXLAN on an IPv6 underlay'), async () => {
    assert.ok(await pings(lab, vmA, '192.0.2.21'), 'a1 → b1');
    assert.ok(await pings(lab, vmB, '192.0.2.11'), 'b1 → a1');
    const run = await iperf3(lab, vmB, '192.0.2.21', vmA);
    console.log(
      `# iperf3 a1 → b1 over dvs VXLAN on IPv6: ${run.bytesReceived} bytes reported, ${(run.bitsPerSecond / 1e9).toFixed(3)} Gbit/s`,
    );
    assert.ok(run.bytesReceived > 0, 'iperf3 moved data');
    const { sent, received } = await tcpTransfer(lab, vmB, '192.0.2.21', vmA);
    assert.deepEqual(received, sent, 'a1 → b1 over an IPv6 underlay: every byte of the stream arrived, intact');
    const peers = await agentA.call('peers/show');
    assert.equal(peers[0].vtep, '2001:db8::2:4789');
    assert.ok(peers[0].counters.rxFrames > 0 && peers[0].counters.txFrames > 0);
    const a1 = (await agentA.call('ports/show'))[0];
    const b1 = (await agentB.call('ports/show'))[0];
    const socketsB = await agentB.call('sockets/show');
    await assertOffloadsState(mode, { ns: vmA, port: a1 }, await agentA.call('sockets/show'));
    await assertOffloadsState(mode, { ns: vmB, port: b1 }, socketsB);
    const vxlanB = socketsB.find((x) => x.encap === 'vxlan');
    if (mode === 'on') {
      assert.ok((a1.offloads?.superFrames ?? 0) > 0, "a1's TAP handed the agent super-frames");
      assert.ok((vxlanB?.groMessages ?? 0) > 0, 'B read super-datagrams over IPv6 (UDP_GRO)');
      assert.ok((b1.offloads?.coalesced ?? 0) > 0, 'b1 got coalesced super-frames');
    } else {
      assert.ok((vxlanB?.datagramsIn ?? 0) >= sent.bytes / 1430, 'B read the stream as MTU-sized datagrams');
    }
  });
}

for (const mode of offloadModes()) describe(`an IPv6 underlay (offloads ${mode})`, () => ipv6Underlay(mode));
