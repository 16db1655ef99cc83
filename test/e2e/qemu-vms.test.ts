/**
 * Real QEMU VMs (TCG on this machine) on dvs: a lab of three dvs hosts and
 * two networks (VNI 100 VXLAN, VNI 200 GRE-in-UDP), four QEMU VMs — one per
 * network on h1 and on h2 — whose TAPs QEMU creates and holds and the agents
 * attach (`ports/add <tap> <vni> attach`), and namespace VMs on h3 as probes.
 * The agents run `datapath: kernel`, so each network is on one provider:
 * VNI 100 on the kernel's bridge + vxlan, VNI 200 (no FOU in this kernel) on
 * the userspace pipeline. Every case below runs on both providers at once.
 *
 * Asserted: the VMs ping each other and are pinged by the probe across hosts
 * in both encaps; a DF ping of the overlay MTU passes and a 1500-byte one is
 * refused with a clear "message too long"; one VM is live-migrated for real
 * (destination QEMU `-incoming` on the other host, QMP, QEMU's own announce)
 * under a 10 ms ping from the probe, one per provider. Afterwards the same guest answers and
 * its console works, every agent and the controller place its MAC at the
 * destination, no duplicate reply, no flap back, the source QEMU and its TAP
 * are gone and the source agent no longer has the port. Then QEMU is
 * SIGKILLed in the middle of two migrations (destination, source): the
 * agents keep running, the VM stays or its port goes gone. No time is judged.
 *
 * A rare crash or hang of the guest after a TCG migration (docs/qemu.md) is
 * no dvs fault: when the moved guest no longer answers on its console (a
 * virtio serial port: no network in its path), the network assertions still
 * hold, its kernel's last lines are printed, and a second VM is moved to
 * check that a guest answers at its destination. Each move's report is
 * printed as a diagnostic.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContinuousPing,
  migrateQemuVm,
  openQemuVm,
  execInGuest,
  guestKernelFault,
  parsePingSummary,
  pingFromGuest,
  renderMigrationReport,
  type MigrationReport,
  type QemuVmState,
} from '@dvs/lab';
import { DEFAULT_OVERLAY_MTU, type AgentPortView } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { THREE_HOSTS_VXLAN_AND_GRE, useLab } from '../support/use-lab.js';

const L = useLab({ ...THREE_HOSTS_VXLAN_AND_GRE, datapath: 'kernel', qemuVms: 4 });

async function portsOf(host: string): Promise<Map<string, AgentPortView>> {
  const { data } = await L().admin(host).call('ports/show');
  return new Map(data.map((p) => [p.name, p]));
}

/** The QEMU VMs of a network (one on h1, one on h2) and the namespace VM of that network on h3. */
function network(vni: number): { a: QemuVmState; b: QemuVmState; probe: string } {
  const [a, b] = L().qemuVms.filter((v) => v.vni === vni);
  const probe = L().state.vms.find((v) => v.vni === vni && v.host === 'h3');
  assert.ok(a && b && probe, `lab layout: two QEMU VMs and a probe in VNI ${vni}`);
  return { a, b, probe: probe.name };
}

/** Pings from inside a guest over its console (busybox ping). */
async function guestPing(from: QemuVmState, to: string, count = 3) {
  const qemu = await openQemuVm(from.qemu);
  try {
    return await pingFromGuest(await qemu.console(), to, { count });
  } finally {
    qemu.disconnect();
  }
}

async function probePing(probe: string, to: string, extra: string[] = []) {
  const r = await L().exec(probe, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '2', ...extra, to], {
    timeoutMs: 20_000,
  });
  return { ...parsePingSummary(r.stdout), code: r.code, text: `${r.stdout}${r.stderr}` };
}

test('four QEMU VMs on h1 and h2: QEMU holds each TAP, the host agent attached it', async () => {
  // VNI 100 on the kernel provider, VNI 200 on userspace (GRE-in-UDP): a QEMU VM on each, on each host.
  for (const host of ['h1', 'h2']) {
    const rows = (await L().admin(host).call('networks/show')).data;
    assert.deepEqual(
      rows.map((r) => [r.vni, r.provider]),
      [
        [100, 'kernel'],
        [200, 'userspace'],
      ],
      host,
    );
  }
  assert.deepEqual(
    L().qemuVms.map((v) => `${v.name}@${v.host}/${v.vni}`),
    ['qvm1@h1/100', 'qvm2@h1/200', 'qvm3@h2/100', 'qvm4@h2/200'],
  );
  for (const vm of L().qemuVms) {
    const link = await L().exec(vm.host, ['ip', '-d', 'link', 'show', vm.tap]);
    assert.match(link.stdout, /tun type tap/, `${vm.tap} on ${vm.host} is a TAP`);
    const port = (await portsOf(vm.host)).get(vm.tap);
    assert.ok(port, `${vm.host}'s agent has no port ${vm.tap}`);
    assert.equal(port.kind, 'attach');
    assert.equal(port.vni, vm.vni);
    assert.equal(port.state, 'up');
    // The guest took its name, MAC and MTU from its kernel command line and QEMU.
    const facts = await L().exec(vm.name, [
      'cat',
      '/proc/sys/kernel/hostname',
      '/sys/class/net/eth0/address',
      '/sys/class/net/eth0/mtu',
    ]);
    assert.deepEqual(facts.stdout.trim().split('\n'), [vm.name, vm.mac, String(DEFAULT_OVERLAY_MTU)]);
  }
});

for (const [vni, encap] of [
  [100, 'vxlan'],
  [200, 'gre-udp'],
] as const) {
  test(`VNI ${vni} (${encap}): QEMU VM <-> QEMU VM across hosts, and the probe on h3 to both`, async () => {
    const { a, b, probe } = network(vni);
    const ab = await guestPing(a, b.address);
    const ba = await guestPing(b, a.address);
    // A loaded machine may lose one ping; none answered is a failure.
    assert.ok(ab.received > 0, `${a.name} (${a.host}) -> ${b.name} (${b.host}): ${JSON.stringify(ab)}`);
    assert.ok(ba.received > 0, `${b.name} -> ${a.name}: ${JSON.stringify(ba)}`);
    assert.equal(ab.duplicates + ba.duplicates, 0);
    for (const vm of [a, b]) {
      const p = await probePing(probe, vm.address);
      assert.ok(p.received > 0, `${probe} (h3) -> ${vm.name} (${vm.host}):\n${p.text}`);
    }
  });

  test(`VNI ${vni} (${encap}): a DF ping of the overlay MTU passes; a 1500-byte one is refused, clearly`, async () => {
    const { a, probe } = network(vni);
    // Overlay MTU 1450 on a 1500-byte underlay: the whole packet (20 IP + 8 ICMP + payload) fills it.
    const full = await probePing(probe, a.address, ['-M', 'do', '-s', String(DEFAULT_OVERLAY_MTU - 28)]);
    assert.ok(full.received > 0, `a ${DEFAULT_OVERLAY_MTU}-byte DF ping to ${a.name}:\n${full.text}`);
    const big = await probePing(probe, a.address, ['-M', 'do', '-s', String(1500 - 28)]);
    assert.notEqual(big.code, 0);
    assert.equal(big.received, 0);
    assert.match(big.text, new RegExp(`message too long, mtu=${DEFAULT_OVERLAY_MTU}`));
  });
}

/**
 * Moves a QEMU VM under a continuous 10 ms ping from the probe; asserts what
 * dvs must do. A guest that no longer answers on its console after the move
 * (a console is a virtio serial port, no network in its path: a crash or hang
 * of the guest or QEMU) is returned as a fault, with its kernel's last lines.
 */
async function moveAndCheck(
  t: TestContext,
  vmName: string,
  to: string,
): Promise<{ report: MigrationReport; fault: string | null }> {
  const l = L();
  const vm = l.qemuVm(vmName);
  const from = vm.host;
  const oldTap = vm.tap;
  const { probe } = network(vm.vni);
  // A mark in the guest's memory: only the same guest, moved, can show it afterwards.
  const token = `token-${process.pid}-${Date.now()}`;
  assert.equal((await l.exec(vmName, ['sh', '-c', `echo ${token} > /tmp/token`])).code, 0);

  const ping = new ContinuousPing(l.vm(probe).netns, vm.address, 10);
  try {
    await ping.waitForReplies(20, 20_000);
    const report = await migrateQemuVm(l, vmName, to, { ping, holdMs: 1000 });
    for (const line of renderMigrationReport(report).split('\n')) t.diagnostic(line);

    // QEMU's own figures, and the VM recorded at the destination on a new TAP held by the new QEMU.
    assert.ok(report.qemu, 'a QEMU move reports QEMU figures');
    assert.ok(Number.isFinite(report.qemu.downtimeMs) && report.qemu.downtimeMs >= 0);
    assert.ok(report.qemu.totalTimeMs >= report.qemu.downtimeMs);
    const moved = l.qemuVm(vmName);
    assert.equal(moved.host, to);
    assert.notEqual(moved.tap, oldTap);

    // The source QEMU quit, its TAP disappeared, the source agent's port went gone and was released.
    assert.equal(report.qemu.sourcePortState, 'gone');
    assert.equal((await l.exec(from, ['ip', 'link', 'show', oldTap])).code !== 0, true, `${oldTap} still on ${from}`);
    assert.equal((await portsOf(from)).has(oldTap), false, `${from}'s agent still has port ${oldTap}`);
    const newPort = (await portsOf(to)).get(moved.tap);
    assert.equal(newPort?.kind, 'attach', `${to}'s agent attached ${moved.tap}`);
    assert.equal(newPort?.state, 'up');

    // Every agent and the controller place the MAC at the destination, and never flapped back.
    assert.ok(
      report.observers.some((o) => o.kind === 'controller'),
      'the controller is watched',
    );
    assert.equal(report.observers.filter((o) => o.kind === 'agent').length, 3);
    for (const o of report.observers) {
      assert.notEqual(o.convergedMs, null, `${o.name} never placed ${report.mac} on ${to} (final: ${o.final})`);
      assert.equal(o.final, to, `${o.name} ends with ${report.mac} at ${o.final}`);
    }
    assert.equal(report.flaps, 0, 'the MAC flapped back to the old host');
    assert.equal(report.oldHostHoldsMac, false);
    const { data } = await l.admin(from).call('fdb/show', [String(moved.vni)]);
    const entry = data.find((e) => e.mac === moved.mac);
    assert.ok(!entry || entry.kind !== 'port', `${from}'s FDB still has ${moved.mac} on a local port`);

    // The same guest runs on at the destination — unless it crashed or hangs there (not a network fault).
    const answer = await execInGuest(moved, ['sh', '-c', 'cat /tmp/token; hostname'], { timeoutMs: 30_000 }).catch(
      (e: Error) => e,
    );
    if (answer instanceof Error) {
      const fault = (await guestKernelFault(moved.qemu.runDir)) ?? answer.message;
      t.diagnostic(`the guest of ${vmName} stopped answering its console after the move (docs/qemu.md):`);
      for (const line of `${answer.message}\n${fault}`.replaceAll('\r', '').split('\n')) t.diagnostic(line);
      return { report, fault };
    }
    assert.deepEqual([answer.code, answer.stdout], [0, `${token}\n${vmName}\n`]);
    // The continuous ping gets answers from the destination (a resumed TCG guest may take a moment).
    await waitFor(
      `a reply from ${vmName} after QEMU resumed it on ${to}`,
      () => ping.replies.some((r) => r.atMs > report.switchoverAt),
      20_000,
    );
    await ping.stop();
    assert.equal(ping.duplicateTimes.length, 0, 'duplicate replies');
    const after = await probePing(probe, moved.address);
    assert.ok(after.received > 0, `${probe} -> ${vmName} on ${to}:\n${after.text}`);
    const other = l.qemuVms.find((v) => v.vni === moved.vni && v.name !== vmName)!;
    const fromGuest = await guestPing(moved, other.address);
    assert.ok(fromGuest.received > 0, `${vmName} on ${to} -> ${other.name}: ${JSON.stringify(fromGuest)}`);
    return { report, fault: null };
  } finally {
    await ping.stop();
  }
}

test('live migration h1 -> h2 under a 10 ms ping from h3, on each provider (qvm1: kernel, qvm2: userspace): the network follows the real VM', async (t) => {
  const kernel = await moveAndCheck(t, 'qvm1', 'h2');
  const userspace = await moveAndCheck(t, 'qvm2', 'h2');
  // A guest may crash on its own after a TCG move (the network assertions held): one of the two must answer.
  assert.ok(
    kernel.fault === null || userspace.fault === null,
    `both guests crashed after their moves:\n${kernel.fault}\n${userspace.fault}`,
  );
});

test('QEMU SIGKILLed in the middle of a migration: the agents keep running; the VM stays (destination killed) or its port goes gone (source killed)', async () => {
  const l = L();
  // A slow copy (32 MiB/s for ~90 MiB) so that the kill lands in the middle of it.
  const slow = { maxBandwidth: 32 * 1024 ** 2 };
  const destinationKilled = l.qemuVm('qvm3');
  const h1Ports = (await portsOf('h1')).size;
  await assert.rejects(
    migrateQemuVm(l, 'qvm3', 'h1', { qemu: slow, onMigrating: (_source, destination) => destination.kill() }),
  );
  // The VM runs on where it was, on the same TAP; h1 kept no port of the killed destination.
  assert.equal(l.qemuVm('qvm3').host, 'h2');
  assert.equal(l.qemuVm('qvm3').incoming, undefined);
  assert.equal((await portsOf('h2')).get(destinationKilled.tap)?.state, 'up');
  assert.equal((await portsOf('h1')).size, h1Ports, "h1 released the killed destination's port");
  const still = await probePing(network(100).probe, destinationKilled.address);
  assert.ok(still.received > 0, `qvm3 answers on h2 after the failed move:\n${still.text}`);

  const sourceKilled = l.qemuVm('qvm4');
  await assert.rejects(migrateQemuVm(l, 'qvm4', 'h1', { qemu: slow, onMigrating: (source) => source.kill() }));
  // The source's TAP went with its QEMU: h2's port is gone (counted), h2's agent answers; h1 kept nothing.
  const gone = await waitFor(`${sourceKilled.tap} gone on h2`, async () => {
    const p = (await portsOf('h2')).get(sourceKilled.tap);
    return p?.state === 'gone' ? p : undefined;
  });
  assert.equal(gone.deviceGone, 1);
  assert.equal((await portsOf('h1')).size, h1Ports);
  assert.equal(l.qemuVm('qvm4').host, 'h2');
});
