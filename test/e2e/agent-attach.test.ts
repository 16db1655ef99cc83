/**
 * Attached ports end to end (real agents, real devices, real namespaces):
 * two dvs hosts on a veth underlay; host B has two agent-created TAP VMs
 * (b1 in VNI 100 at 192.0.2.21, b2 in VNI 200 at 192.0.2.149); host A has
 * no port in its config: every port is added at run time with plug attach.
 *
 *   vq ══ eth0 (guest TAP) ══ QEMU stand-in ══ TAP q ─┐
 *   vv ══ eth0 ═════════════════ veth ══════ v  ──────┤ agent A ══ VXLAN ══ agent B ─ b1, b2
 *   vm ══ eth0 ══ veth ══ mp ── macvlan (passthru) m ─┤
 *   vt ══ eth0 (802.1Q through AF_PACKET) ══ veth t ──┘ trunk: VLAN 10 → 100, 20 → 200
 *
 * The QEMU stand-in (TapHolder of @dvs/netdev/testing) is a separate process
 * that creates TAP q and holds it (TUNSETIFF) exactly as QEMU does, and
 * relays its frames to a guest TAP in the VM's namespace, as QEMU relays
 * them to the guest's virtio NIC. Then: the QEMU stand-in killed and started
 * again (the port goes gone, then up, and the VM pings again), and agent A
 * SIGKILLed and started again from the same config (its run-time ports come
 * back from the state file; the gap in the VM's pings is printed, not judged).
 * Every test runs with the agents' offloads on and off (support/offloads.ts),
 * each in a lab of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TapHolder } from '@dvs/netdev/testing';
import type { AgentPortView } from '@dvs/agent';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { NetnsLab } from '../support/netns-lab.js';
import { twoHostUnderlay, twoVxlanNetworksAgent } from '../support/two-hosts.js';
import { pings, plugVm, tcpTransfer } from '../support/vm-setup.js';
import { RawPort, arpOverVlan } from '../support/raw-port.js';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';
import { offloadModes, type OffloadsMode } from '../support/offloads.js';

/** The whole file, with the agents' offloads on or off. */
function attachedPorts(mode: OffloadsMode): void {
  const lab = new NetnsLab(mode === 'on' ? 'dat' : 'datf');
  const named = (what: string) => `${what} (offloads ${mode})`;
  const dev = (s: string) => lab.name(s);
  const MTU = '1450';
  let hostA: string;
  let hostB: string;
  let agentA: AgentProcess;
  let agentB: AgentProcess;
  let configA: Record<string, unknown>;
  let qemu: TapHolder | null = null;
  let trunkVm: RawPort | null = null;
  const vm: Record<string, string> = {};

  /** The QEMU stand-in: TAP q in host A, held; its guest NIC eth0 in vq, with the VM's MAC and address. */
  async function startQemu(): Promise<TapHolder> {
    const holder = await TapHolder.start(hostA, dev('q'), { namespace: vm.q, name: 'eth0' });
    // QEMU's host_mtu=1450; the guest NIC gets the same.
    await run(['ip', '-n', hostA, 'link', 'set', dev('q'), 'mtu', MTU]);
    await run(['ip', '-n', vm.q, 'link', 'set', 'eth0', 'address', '52:54:00:00:00:11', 'mtu', MTU, 'up']);
    await run(['ip', '-n', vm.q, 'addr', 'add', '192.0.2.11/25', 'dev', 'eth0']);
    return holder;
  }

  async function portsOf(agent: AgentProcess): Promise<Map<string, AgentPortView>> {
    return new Map((await agent.call('ports/show')).map((p) => [p.name, p]));
  }

  before(async () => {
    ({ hostA, hostB } = await twoHostUnderlay(lab));
    const dir = await lab.tempDir();
    configA = { ...twoVxlanNetworksAgent('a', mode), stateFile: join(dir, 'host-a-state.json') };
    agentA = await startAgent(lab, hostA, 'agent-a', configA);
    agentB = await startAgent(lab, hostB, 'agent-b', {
      ...twoVxlanNetworksAgent('b', mode),
      ports: [
        { name: dev('b1'), vni: 100 },
        { name: dev('b2'), vni: 200 },
      ],
    });
    for (const name of ['q', 'v', 'm', 't', 'b1', 'b2']) vm[name] = await lab.netns(`v${name}`);
    await plugVm(lab, hostB, dev('b1'), vm.b1, ['192.0.2.21/25']);
    await plugVm(lab, hostB, dev('b2'), vm.b2, ['192.0.2.149/25']);

    qemu = await startQemu();
    await lab.veth(hostA, dev('v'), null, vm.v, 'eth0', '192.0.2.12/25', 1450);
    // A macvlan whose far side is the VM: passthru mode, the one that hands it
    // frames for every MAC (bridge, VEPA and private modes deliver only its own).
    await lab.veth(hostA, dev('mp'), null, vm.m, 'eth0', '192.0.2.13/25', 1450);
    await run(['ip', '-n', hostA, 'link', 'add', dev('m'), 'link', dev('mp'), 'type', 'macvlan', 'mode', 'passthru']);
    await run(['ip', '-n', hostA, 'link', 'set', dev('m'), 'mtu', MTU]);
    await lab.veth(hostA, dev('t'), null, vm.t, 'eth0', null, 1450);
    trunkVm = new RawPort(vm.t, 'eth0');

    for (const name of ['q', 'v', 'm']) await agentA.call('ports/add', dev(name), '100', 'attach');
    await agentA.call('ports/add', dev('t'), 'trunk:10=100,20=200', 'attach');
  });

  after(async () => {
    trunkVm?.close();
    await qemu?.kill();
    await lab.cleanup();
  });

  test(
    named('an attached QEMU TAP, a veth and a macvlan are ports of kind attach, up, each with its device kind'),
    async () => {
      const ports = await portsOf(agentA);
      assert.deepEqual(
        ['q', 'v', 'm', 't'].map((n) => {
          const p = ports.get(dev(n));
          return [n, p?.kind, p?.deviceKind, p?.state, p?.origin, p?.mtuWarning];
        }),
        [
          ['q', 'attach', 'tap', 'up', 'runtime', null],
          ['v', 'attach', 'veth', 'up', 'runtime', null],
          ['m', 'attach', 'macvlan', 'up', 'runtime', null],
          ['t', 'attach', 'veth', 'up', 'runtime', null],
        ],
      );
    },
  );

  test(
    named(
      'attach refuses, naming the device and the fix, and changes nothing: missing, in another namespace, the underlay, lo, a port',
    ),
    async () => {
      const before = (await agentA.call('ports/show')).map((p) => p.name);
      const refusals: [string, string, RegExp][] = [
        [dev('nope'), 'DVS_NO_DEVICE', /no device \S+nope in this network namespace/],
        // vb1's NIC exists, but in the VM's namespace: from the agent's it is not there.
        [dev('b1'), 'DVS_NO_DEVICE', /a device in another namespace is not visible here/],
        [dev('ua'), 'DVS_DEVICE_UNSUITABLE', /holds this agent's VTEP address 198\.51\.100\.1 \(the tunnel underlay\)/],
        ['lo', 'DVS_DEVICE_UNSUITABLE', /lo is the loopback device/],
      ];
      for (const [name, code, message] of refusals) {
        await assert.rejects(agentA.admin.call('ports/add', [name, '100', 'attach']), { code, message }, name);
      }
      await assert.rejects(agentA.admin.call('ports/add', [dev('v'), '200', 'attach']), {
        code: 'DVS_CONFLICT',
        message: /port \S+v already exists \(100, plug attach\)/,
      });
      assert.deepEqual(
        (await agentA.call('ports/show')).map((p) => p.name),
        before,
      );
    },
  );

  test(named('the VM behind each attached device pings a VM on host B'), async () => {
    for (const [name, ns] of [
      ['QEMU TAP', vm.q],
      ['veth', vm.v],
      ['macvlan', vm.m],
    ] as const) {
      assert.ok(await pings(lab, ns, '192.0.2.21'), `${name} → b1 across the tunnel`);
    }
    const ports = await portsOf(agentA);
    for (const n of ['q', 'v', 'm']) assert.ok((ports.get(dev(n))?.counters.rxFrames ?? 0) > 0, `${n} counted rx`);
  });

  test(
    named(
      'TCP through an attached veth, both ways, intact: its TSO super-frames come in whole (PACKET_VNET_HDR) and are cut to the MTU; toward it, coalesced with offloads, plain without',
    ),
    async () => {
      const { sent, received } = await tcpTransfer(lab, vm.b1, '192.0.2.21', vm.v, 8 * 1024 * 1024);
      assert.deepEqual(received, sent, 'vv → b1: every byte of the stream arrived, intact');
      const back = await tcpTransfer(lab, vm.v, '192.0.2.12', vm.b1, 4 * 1024 * 1024);
      assert.deepEqual(back.received, back.sent, 'b1 → vv: every byte of the stream arrived, intact');
      // What went into the tunnel were segments: no frame over the overlay MTU was dropped on either agent.
      for (const agent of [agentA, agentB]) assert.equal((await agent.call('counters/show')).drops.mtu ?? 0, 0);
      const off = (await portsOf(agentA)).get(dev('v'))?.offloads;
      // Either mode: a veth peer's super-frames are not the agent's to refuse, so it reads them with the header.
      assert.ok(off !== undefined, 'the attached veth reports its offloads (PACKET_VNET_HDR)');
      console.log(
        `# attached veth: ${off.superFrames} super-frames cut into ${off.segments} segments, ${off.badHeaders} bad headers; ${off.coalesced} super-frames written to it`,
      );
      assert.ok(off.superFrames > 0, 'the veth handed the agent TSO super-frames');
      assert.ok(off.segments > off.superFrames * 2, 'each was cut into several segments');
      assert.equal(off.badHeaders + off.unsegmentable, 0);
      if (mode === 'on') assert.ok(off.coalesced > 0, "b1's segments reached the veth coalesced");
      else assert.equal(off.coalesced, 0, 'offloads off: every frame to the veth went plain');
    },
  );

  test(
    named(
      'a trunk port on an attached device keeps its VLAN tags: VLAN 10 reaches VNI 100, VLAN 20 VNI 200, replies tagged',
    ),
    async () => {
      const port = trunkVm as RawPort;
      const tMac = '02:00:00:00:77:02';
      const macOf = async (ns: string, ifname: string) =>
        Number.parseInt(
          (await lab.exec(ns, ['cat', `/sys/class/net/${ifname}/address`])).stdout.trim().replace(/:/g, ''),
          16,
        );
      // The kernel moves a received tag into metadata before any packet socket
      // sees it: without the attached device putting it back, VLAN 10 would
      // arrive untagged and be dropped (unmapped-vlan).
      const viaTen = await arpOverVlan(port, tMac, '192.0.2.31', '192.0.2.21', 10);
      assert.deepEqual(viaTen, { mac: await macOf(vm.b1, dev('b1')), vlan: 10 }, 'b1 (VNI 100) answers on VLAN 10');
      const viaTwenty = await arpOverVlan(port, tMac, '192.0.2.159', '192.0.2.149', 20);
      assert.deepEqual(viaTwenty, { mac: await macOf(vm.b2, dev('b2')), vlan: 20 }, 'b2 (VNI 200) answers on VLAN 20');
      assert.equal(await arpOverVlan(port, tMac, '192.0.2.32', '192.0.2.21', 20), null, 'b1 is not on VLAN 20');
    },
  );

  test(
    named(
      'QEMU killed with SIGKILL: the port goes gone and the agent keeps running; QEMU back: attached again, pings again',
    ),
    async () => {
      await (qemu as TapHolder).kill();
      qemu = null;
      const gone = await waitFor('port q gone', async () => {
        const p = (await portsOf(agentA)).get(dev('q'));
        return p?.state === 'gone' ? p : undefined;
      });
      assert.equal(gone.deviceGone, 1);
      assert.equal(gone.detail, 'device deleted');
      assert.equal(agentA.child.exitCode, null, 'agent alive');
      assert.ok(await pings(lab, vm.v, '192.0.2.21'), 'the other ports are undisturbed');

      qemu = await startQemu();
      const back = await waitFor('port q back', async () => {
        const p = (await portsOf(agentA)).get(dev('q'));
        return p?.state === 'up' ? p : undefined;
      });
      assert.equal(back.reattached, 1);
      await waitFor('the QEMU VM pings b1 again', () => pings(lab, vm.q, '192.0.2.21'), 30_000, 100);
      const log = await readFile(agentA.logFile, 'utf8');
      assert.equal(log.match(/"msg":"port device gone/g)?.length, 1, 'one log line for the loss');
      assert.match(log, /"msg":"port device back: attached again"/);
    },
  );

  test(
    named(
      'agent SIGKILLed and started again from the same config: run-time ports come back from the state file, the VM pings again',
    ),
    async (t) => {
      const kept = JSON.parse(await readFile(configA.stateFile as string, 'utf8')) as { ports: { name: string }[] };
      assert.deepEqual(kept.ports.map((p) => p.name).sort(), ['q', 'v', 'm', 't'].map(dev).sort());
      const pingLog = join(await lab.tempDir(), 'gap-ping.log');
      // A 20 ms ping with timestamps (-D) from the QEMU VM to b1, across the kill and the restart.
      const ping = lab.spawn(vm.q, ['ping', '-D', '-n', '-i', '0.02', '192.0.2.21'], pingLog);
      const replies = async (): Promise<number[]> =>
        [...(await readFile(pingLog, 'utf8')).matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map(
          (m) => Number(m[1]) * 1000,
        );
      try {
        await waitFor('pings flowing', async () => (await replies()).length >= 5, 10_000);
        const killedAt = Date.now();
        agentA.child.kill('SIGKILL');
        await waitFor('agent A gone', () => agentA.child.exitCode !== null || agentA.child.signalCode !== null);
        agentA.admin.close();
        const startedAt = Date.now();
        agentA = await startAgent(lab, hostA, 'agent-a2', configA);
        const ports = await waitFor('every run-time port back and up', async () => {
          const p = await portsOf(agentA);
          return ['q', 'v', 'm', 't'].every((n) => p.get(dev(n))?.state === 'up') ? p : undefined;
        });
        const upAt = Date.now();
        assert.ok([...ports.values()].every((p) => p.origin === 'runtime' && p.kind === 'attach'));
        const resumed = await waitFor(
          'a reply after every port was up again',
          async () => (await replies()).find((r) => r > upAt),
          30_000,
          20,
        );
        // The gap: the longest silence between two consecutive replies from just before the kill until the traffic resumed.
        const around = (await replies()).filter((r) => r >= killedAt - 1000 && r <= resumed);
        let gap = 0;
        let gapStart = killedAt;
        for (let i = 1; i < around.length; i++) {
          if (around[i] - around[i - 1] > gap) {
            gap = around[i] - around[i - 1];
            gapStart = around[i - 1];
          }
        }
        assert.ok(gap > 0, 'replies before and after the restart');
        t.diagnostic(
          `restart gap in the VM's traffic (20 ms ping through the attached QEMU TAP, agent SIGKILLed and started again ` +
            `from the same config): ${Math.round(gap)} ms without a reply (the last reply before it came ` +
            `${Math.round(killedAt - gapStart)} ms before the kill); the new agent had every port up ` +
            `${Math.round(upAt - startedAt)} ms after it was started`,
        );
        for (const ns of [vm.v, vm.m]) assert.ok(await pings(lab, ns, '192.0.2.21'), `${ns} pings again`);
        const log = await readFile(agentA.logFile, 'utf8');
        assert.match(log, /"msg":"ports restored from the state file".*"ports":4/);
      } finally {
        await lab.stop(ping, 1000);
      }
    },
  );

  test(named('a TAP the agent created, deleted under it (ip link del), goes gone instead of staying up'), async () => {
    await agentB.call('ports/add', dev('bx'), '100');
    assert.equal((await portsOf(agentB)).get(dev('bx'))?.state, 'up');
    await run(['ip', '-n', hostB, 'link', 'del', dev('bx')]);
    const gone = await waitFor('bx gone', async () => {
      const p = (await portsOf(agentB)).get(dev('bx'));
      return p?.state === 'gone' ? p : undefined;
    });
    assert.deepEqual([gone.kind, gone.deviceGone, gone.detail], ['tap-created', 1, 'device deleted']);
    assert.ok(await pings(lab, vm.b1, '192.0.2.12'), 'the other ports of the agent still forward');
    assert.equal(agentB.child.exitCode, null);
  });
}

for (const mode of offloadModes()) describe(`attached ports (offloads ${mode})`, () => attachedPorts(mode));
