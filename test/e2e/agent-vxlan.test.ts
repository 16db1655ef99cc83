/**
 * dvs-agent end to end, VXLAN: two host namespaces on a veth underlay
 * (198.51.100.0/24), each running the real agent process with real TAPs moved
 * into VM namespaces. VNI 100 uses 192.0.2.0/25, VNI 200 192.0.2.128/25.
 *
 *   a1 (100) ─┐                ┌─ b1 (100)
 *   a2 (200) ─┤ host A ══ B ─┤─ b2 (200, plus 192.0.2.22 to test isolation)
 *   t  (trunk: VLAN 10→100, VLAN 20→200)
 *
 * Every test runs twice, with the agents' offloads on and off
 * (support/offloads.ts), each in a lab of its own.
 *
 * The trunk VM speaks tagged frames through AF_PACKET (RawPort): this kernel
 * has neither the 802.1Q module nor bridge VLAN filtering, so no VLAN
 * subinterfaces. The far ends are real kernel stacks answering ARP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { CountersSnapshot } from '@dvs/agent';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { NetnsLab } from '../support/netns-lab.js';
import { twoHostUnderlay, twoVxlanNetworksAgent } from '../support/two-hosts.js';
import { iperf3, pings, plugVm, tcpTransfer } from '../support/vm-setup.js';
import { RawPort, arpOverVlan } from '../support/raw-port.js';
import { tcpdump } from '../support/capture.js';
import { waitFor } from '@dvs/test-support';
import { sendGarbage } from '../support/garbage.js';
import { runDvs } from '../support/dvs-cli.js';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';

/** Datagrams the kernel of namespace `ns` delivered to UDP sockets (Udp InDatagrams of /proc/net/snmp). */
async function udpDatagramsIn(lab: NetnsLab, ns: string): Promise<number> {
  const snmp = (await lab.exec(ns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = snmp[0].split(/\s+/);
  return Number(snmp[1].split(/\s+/)[names.indexOf('InDatagrams')]);
}

/** The whole file, with the agents' offloads on or off. */
function agentVxlan(mode: OffloadsMode): void {
  const lab = new NetnsLab(mode === 'on' ? 'dva' : 'dvaf');
  const named = (what: string) => `${what} (offloads ${mode})`;
  let hostA: string;
  let hostB: string;
  let agentA: AgentProcess;
  let agentB: AgentProcess;
  const vm: Record<string, string> = {};
  let trunkVm: RawPort | undefined;
  const tap = (s: string) => lab.name(s);

  before(async () => {
    ({ hostA, hostB } = await twoHostUnderlay(lab));
    agentA = await startAgent(lab, hostA, 'agent-a', {
      ...twoVxlanNetworksAgent('a', mode),
      ports: [
        { name: tap('a1'), vni: 100 },
        { name: tap('a2'), vni: 200 },
        { name: tap('t'), mode: 'trunk', vlans: { 10: 100, 20: 200 } },
      ],
    });
    agentB = await startAgent(lab, hostB, 'agent-b', {
      ...twoVxlanNetworksAgent('b', mode),
      // Host B busy-polls: every test below also runs with the loop spin on one side.
      busyPollUs: 50,
      ports: [
        { name: tap('b1'), vni: 100 },
        { name: tap('b2'), vni: 200 },
      ],
    });
    for (const [name, host, addrs] of [
      ['a1', hostA, ['192.0.2.11/25']],
      ['a2', hostA, ['192.0.2.139/25']],
      ['b1', hostB, ['192.0.2.21/25']],
      ['b2', hostB, ['192.0.2.149/25', '192.0.2.22/25']],
      ['t', hostA, []],
    ] as const) {
      vm[name] = await lab.netns(`v${name}`);
      await plugVm(lab, host, tap(name), vm[name], [...addrs]);
    }
    trunkVm = new RawPort(vm.t, tap('t'));
  });

  after(async () => {
    trunkVm?.close();
    await lab.cleanup();
  });

  test(named('created TAPs carry the overlay MTU'), async () => {
    const ports = await agentA.call('ports/show');
    assert.deepEqual(
      ports.map((p) => [p.name, p.mtu]),
      [
        [tap('a1'), 1450],
        [tap('a2'), 1450],
        [tap('t'), 1450],
      ],
    );
    const mtu = await lab.exec(vm.a1, ['cat', `/sys/class/net/${tap('a1')}/mtu`]);
    assert.equal(mtu.stdout.trim(), '1450');
  });

  test(named('VMs ping across hosts in VNI 100 and VNI 200, both ways'), async () => {
    assert.ok(await pings(lab, vm.a1, '192.0.2.21'), 'a1 → b1 (VNI 100)');
    assert.ok(await pings(lab, vm.b2, '192.0.2.139'), 'b2 → a2 (VNI 200)');
    const fdb = await agentA.call('fdb/show', '100');
    assert.ok(fdb.some((e) => e.kind === 'vtep' && e.location === '198.51.100.2:4789'));
    assert.ok(fdb.some((e) => e.kind === 'port' && e.location === tap('a1')));
  });

  test(
    named('iperf3 TCP across hosts; 16 MiB arrive intact, as super-frames or plain frames as the mode says'),
    async () => {
      const run = await iperf3(lab, vm.b1, '192.0.2.21', vm.a1);
      const txFull =
        (await agentA.call('counters/show')).drops['tx-full'] + (await agentB.call('counters/show')).drops['tx-full'];
      console.log(
        `# iperf3 a1 → b1 over dvs VXLAN: ${run.bytesReceived} bytes reported, ${(run.bitsPerSecond / 1e9).toFixed(3)} Gbit/s (tx-full drops on both agents: ${txFull})`,
      );
      assert.ok(run.bytesReceived > 0, 'iperf3 moved data');
      // B's VXLAN socket as the agent reads it, and UDP datagrams as B's kernel delivers them.
      const vxlanSocket = async () => (await agentB.call('sockets/show')).find((x) => x.encap === 'vxlan');
      const socketBefore = await vxlanSocket();
      const udpBefore = await udpDatagramsIn(lab, hostB);
      const { sent, received } = await tcpTransfer(lab, vm.b1, '192.0.2.21', vm.a1);
      assert.deepEqual(received, sent, 'a1 → b1: every byte of the stream arrived, intact');
      const udpIn = (await udpDatagramsIn(lab, hostB)) - udpBefore;
      const socketAfter = await vxlanSocket();
      assert.ok(socketBefore !== undefined && socketAfter !== undefined, 'B reports its VXLAN socket');
      const datagramsIn = socketAfter.datagramsIn - socketBefore.datagramsIn;
      const groReads = socketAfter.groMessages - socketBefore.groMessages;
      console.log(
        `# host B's kernel handed its sockets ${udpIn} UDP datagrams; the agent read ${datagramsIn} datagrams in ${groReads} super-datagrams`,
      );
      const a1 = (await agentA.call('ports/show')).find((p) => p.name === tap('a1'));
      const b1 = (await agentB.call('ports/show')).find((p) => p.name === tap('b1'));
      assert.ok(a1 !== undefined && b1 !== undefined);
      await assertOffloadsState(mode, { ns: vm.a1, port: a1 }, await agentA.call('sockets/show'));
      await assertOffloadsState(mode, { ns: vm.b1, port: b1 }, await agentB.call('sockets/show'));
      // The same through the real `dvs` binary, as an operator reads it.
      const cli = await runDvs(['agent', 'sockets', '--socket', agentB.socket]);
      assert.equal(cli.code, 0, cli.stderr);
      const receive = mode === 'on' ? 'gro' : 'plain';
      assert.match(cli.stdout, new RegExp(`vxlan\\s+198\\.51\\.100\\.2:4789\\s+${receive}\\s`));
      if (mode === 'off') {
        // Plain frames and datagrams: the kernel counts each datagram the agent reads, and no super-frame exists.
        assert.equal(groReads, 0, 'no super-datagram read');
        assert.ok(datagramsIn >= sent.bytes / 1450, 'the stream came as MTU-sized datagrams');
        assert.ok(udpIn * 2 > datagramsIn, 'one kernel delivery per datagram, not one per several');
        return;
      }
      // UDP_GRO on B's tunnel socket: the kernel counts a super-datagram as one, the agent its segments.
      assert.ok(groReads > 0 && datagramsIn > 4 * udpIn, 'the datagrams came in as super-datagrams, several per read');
      // a1's TAP handed the agent TSO super-frames, which it segmented.
      const off = a1.offloads;
      assert.ok(off !== undefined);
      console.log(
        `# a1 offloads: ${off.superFrames} super-frames cut into ${off.segments} segments, ${off.badHeaders} bad headers`,
      );
      assert.ok(
        off.superFrames > 0 && off.segments > off.superFrames,
        'super-frames came through the pipeline, segmented',
      );
      assert.equal(off.badHeaders + off.unsegmentable, 0);
      // … and b1's agent glued the segments it received back into super-frames for b1's TAP.
      const glued = b1.offloads;
      console.log(
        `# b1 offloads: ${glued?.coalesced} super-frames coalesced from ${glued?.coalescedSegments} segments`,
      );
      assert.ok(
        glued !== undefined && glued.coalesced > 0 && glued.coalescedSegments > glued.coalesced,
        'b1 got coalesced super-frames',
      );
    },
  );

  test(named('VNI isolation: VNI 100 cannot reach VNI 200, broadcasts included'), async () => {
    assert.equal(await pings(lab, vm.a1, '192.0.2.22', 2), false, 'b2 has 192.0.2.22 but sits in VNI 200');
    const before = Object.fromEntries((await agentB.call('ports/show')).map((p) => [p.name, p.counters.txFrames]));
    await lab.exec(vm.a1, ['ping', '-n', '-q', '-b', '-c', '3', '-i', '0.2', '-w', '2', '192.0.2.127'], {
      allowFailure: true,
    });
    const txFrames = async () =>
      Object.fromEntries((await agentB.call('ports/show')).map((p) => [p.name, p.counters.txFrames]));
    // The broadcasts cross to B in the background of ping's deadline: counted once B has written them to b1.
    const afterShow = await waitFor(
      'VNI 100 broadcasts reach b1',
      async () => {
        const now = await txFrames();
        return now[tap('b1')] - before[tap('b1')] >= 3 ? now : undefined;
      },
      15_000,
    );
    assert.equal(afterShow[tap('b2')] - before[tap('b2')], 0, 'and never b2 (VNI 200)');
  });

  test(named('a trunk port carries VLAN 10 to VNI 100 and VLAN 20 to VNI 200'), async () => {
    const port = trunkVm as RawPort;
    const tMac = '02:00:00:00:77:01';
    const b1Mac = (await lab.exec(vm.b1, ['cat', `/sys/class/net/${tap('b1')}/address`])).stdout.trim();
    const b2Mac = (await lab.exec(vm.b2, ['cat', `/sys/class/net/${tap('b2')}/address`])).stdout.trim();
    // The receive path hands tags to AF_PACKET as metadata; tcpdump shows them.
    const capture = await tcpdump(lab, vm.t, tap('t'), ['arp or vlan'], 'trunk');
    const viaTen = await arpOverVlan(port, tMac, '192.0.2.31', '192.0.2.21', 10);
    assert.ok(viaTen !== null, 'b1 (VNI 100) answers ARP sent on VLAN 10');
    assert.equal(viaTen.mac, Number.parseInt(b1Mac.replace(/:/g, ''), 16));
    const viaTwenty = await arpOverVlan(port, tMac, '192.0.2.159', '192.0.2.149', 20);
    assert.ok(viaTwenty !== null, 'b2 (VNI 200) answers ARP sent on VLAN 20');
    assert.equal(viaTwenty.mac, Number.parseInt(b2Mac.replace(/:/g, ''), 16));
    assert.equal(await arpOverVlan(port, tMac, '192.0.2.32', '192.0.2.21', 20), null, 'b1 is not reachable on VLAN 20');
    const lines = (await capture.stop()).split('\n');
    const replyOn = (ip: string) => lines.find((l) => l.includes(`Reply ${ip} is-at`));
    assert.match(replyOn('192.0.2.21') ?? 'none', /vlan 10,/, 'the VNI 100 reply comes back tagged 10');
    assert.match(replyOn('192.0.2.149') ?? 'none', /vlan 20,/, 'the VNI 200 reply comes back tagged 20');
    for (const vni of ['100', '200']) {
      const onB = await agentB.call('fdb/show', vni);
      assert.ok(
        onB.some((e) => e.mac === tMac && e.location === '198.51.100.1:4789'),
        `trunk VM learned on B in VNI ${vni}`,
      );
    }
    const before = (await agentA.call('counters/show')).drops['unmapped-vlan'];
    await arpOverVlan(port, tMac, '192.0.2.33', '192.0.2.21', 30, 300);
    await waitFor(
      'VLAN 30 is unmapped: dropped and counted',
      async () => (await agentA.call('counters/show')).drops['unmapped-vlan'] - before >= 1,
    );
  });

  test(named('garbage at the tunnel ports is dropped and counted; VMs still ping'), async () => {
    const before = (await agentA.call('counters/show')).drops;
    const sent = await sendGarbage(lab, hostB, '198.51.100.1', { vxlanPort: 4789, grePort: 4754, knownVni: 100 });
    // A stranger on the underlay: right VNI, unknown source.
    await lab.exec(hostB, ['ip', 'addr', 'add', '198.51.100.9/24', 'dev', lab.name('ub')]);
    await sendGarbage(lab, hostB, '198.51.100.1', {
      vxlanPort: 4789,
      grePort: 4754,
      knownVni: 100,
      from: '198.51.100.9',
      onlyValid: true,
    });
    assert.ok(await pings(lab, vm.a1, '192.0.2.21'), 'still switching');
    // The datagrams wait in two sockets (VXLAN and GRE-in-UDP): each is read and counted, not necessarily before the pings.
    let delta: (r: keyof CountersSnapshot['drops']) => number = () => 0;
    await waitFor(
      'every garbage datagram dropped and counted',
      async () => {
        const afterDrops = (await agentA.call('counters/show')).drops;
        delta = (r) => afterDrops[r] - before[r];
        return (
          delta('malformed') >= sent.malformed && delta('unknown-vni') >= sent.unknownVni && delta('unknown-vtep') >= 1
        );
      },
      15_000,
    ).catch(() => undefined);
    assert.ok(delta('malformed') >= sent.malformed, `malformed +${delta('malformed')} of ${sent.malformed}`);
    assert.ok(delta('unknown-vni') >= sent.unknownVni, `unknown-vni +${delta('unknown-vni')}`);
    assert.ok(delta('unknown-vtep') >= 1, 'unknown-vtep counted');
    assert.equal(agentA.child.exitCode, null, 'agent alive');
  });

  test(named('tunnel health probes run over the data path: each agent sees the other up'), async () => {
    for (const [agent, peer] of [
      [agentA, '198.51.100.2'],
      [agentB, '198.51.100.1'],
    ] as const) {
      const state = await waitFor(
        `tunnel to ${peer} up`,
        async () => {
          const data = (await agent.admin.call('tunnels/show')).data as {
            peers: { vtep: { address: string }; state: string }[];
          };
          const row = data.peers.find((p) => p.vtep.address === peer);
          return row?.state === 'up' ? row.state : undefined;
        },
        15_000,
        200,
      );
      assert.equal(state, 'up');
    }
  });

  test(
    named(
      'ports come and go at run time; SIGTERM deletes created TAPs and leaves adopted ones; the busy-polling host spun',
    ),
    async () => {
      // An existing persistent TAP (as QEMU/libvirt leave them) is adopted at run time.
      const adopted = tap('ad');
      await lab.exec(hostB, ['ip', 'tuntap', 'add', adopted, 'mode', 'tap']);
      await agentB.call('ports/add', adopted, '100', 'adopt');
      const runtime = tap('rt');
      await agentB.call('ports/add', runtime, 'trunk:10=100,20=200');
      const names = (await agentB.call('ports/show')).map((p) => p.name);
      assert.ok(names.includes(adopted) && names.includes(runtime));
      assert.ok(await pings(lab, vm.a1, '192.0.2.21'), 'other ports undisturbed');
      await agentB.call('ports/del', runtime);
      assert.equal(
        (await lab.exec(hostB, ['ip', 'link', 'show', runtime], { allowFailure: true })).code !== 0,
        true,
        'ports/del deleted the created TAP',
      );
      const code = await agentB.stop();
      assert.equal(code, 0);
      const links = await lab.exec(vm.b1, ['ip', '-o', 'link', 'show'], { allowFailure: true });
      assert.ok(!links.stdout.includes(tap('b1')), 'created TAP deleted with the agent');
      const left = await lab.exec(hostB, ['ip', 'link', 'show', adopted], { allowFailure: true });
      assert.equal(left.code, 0, 'adopted TAP left in place');
      const log = await readFile(agentB.logFile, 'utf8');
      assert.match(
        log,
        /port MTU is larger than the overlay MTU.*"deviceMtu":1500/,
        'the 1500-byte adopted TAP was warned about',
      );
      assert.match(log, /"msg":"agent stopped"/);
      // The loop spin ran after the traffic above, and frames ended some spins early.
      const line = log.split('\n').find((l) => l.includes('"msg":"busy polling stopped"'));
      assert.ok(line !== undefined, 'busy polling was on and said what it did');
      const spin = JSON.parse(line) as { spins: number; endedByReadiness: number };
      assert.ok(spin.spins > 0, 'it spun after frames');
      assert.ok(spin.endedByReadiness > 0, 'a frame arriving during a spin ended it');
    },
  );
}

for (const mode of offloadModes()) describe(`dvs-agent VXLAN (offloads ${mode})`, () => agentVxlan(mode));
