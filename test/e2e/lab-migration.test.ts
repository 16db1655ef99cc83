// A VM live-migrates between dvs hosts in the namespace lab, QEMU style (same
// MAC and address, new TAP on the destination, RARP announce, old port
// removed), under a continuous 10 ms ping. Asserted: traffic follows the VM,
// every agent re-points the MAC to the new host, the old host no longer holds
// it, nothing flaps back. No timing thresholds: the figures are the
// benchmark's business. With the agents' offloads on and off
// (support/offloads.ts), a lab each.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ContinuousPing, migrateVm, type MigrationReport } from '@dvs/lab';
import { vmPingReplies } from '../support/lab-vms.js';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';
import { THREE_HOSTS_VXLAN_AND_GRE, useLab } from '../support/use-lab.js';

/** The whole file, with the agents' offloads on or off. */
function migration(mode: OffloadsMode): void {
  const named = (what: string) => `${what} (offloads ${mode})`;
  const lab = useLab({ ...THREE_HOSTS_VXLAN_AND_GRE, offloads: mode });

  /** At least one of a few pings answered (a loaded machine may lose one; none answered is a failure). */
  const reaches = async (from: string, to: string): Promise<boolean> =>
    (await vmPingReplies(lab(), lab().vm(from), lab().vm(to))) > 0;

  async function localPortsOf(host: string): Promise<string[]> {
    const { data } = await lab().admin(host).call('ports/show');
    return (data as Array<{ name: string }>).map((p) => p.name);
  }

  async function moveAndCheck(vmName: string, to: string, pinger: string): Promise<MigrationReport> {
    const l = lab();
    const from = l.vm(vmName).host;
    const oldTap = l.vm(vmName).ifname;
    const ping = new ContinuousPing(l.vm(pinger).netns, l.vm(vmName).address, 10);
    let report: MigrationReport;
    try {
      await ping.waitForReplies(20, 10_000);
      report = await migrateVm(l, vmName, to, { ping, holdMs: 500 });
      const before = ping.replies.length;
      await ping.waitForReplies(before + 20, 10_000);
    } finally {
      await ping.stop();
    }
    // Replies kept coming after the switchover: the traffic followed the VM.
    assert.ok(
      ping.replies.some((r) => r.atMs > report.switchoverAt + 100),
      'no ping reply after the move',
    );
    assert.equal(l.vm(vmName).host, to);
    for (const o of report.observers) {
      assert.notEqual(o.convergedMs, null, `${o.name} never placed ${report.mac} on ${to} (final: ${o.final})`);
      assert.equal(o.final, to, `${o.name} ends with ${report.mac} at ${o.final}`);
    }
    assert.equal(report.flaps, 0, 'the MAC flapped back to the old host');
    assert.equal(report.oldHostHoldsMac, false, `${from} still holds the MAC on a local port`);

    // The old host's own FDB has no local entry for the MAC and its port is gone.
    const { data } = await l.admin(from).call('fdb/show', [String(l.vm(vmName).vni)]);
    const entry = data.find((e) => e.mac === report.mac);
    assert.ok(!entry || entry.kind !== 'port', `${from} FDB still has ${report.mac} on a local port`);
    assert.ok(!(await localPortsOf(from)).includes(oldTap), `${from} still has port ${oldTap}`);
    // The TAP created for it at the destination is in the mode too.
    const newPort = (await l.admin(to).call('ports/show')).data.find((p) => p.name === l.vm(vmName).ifname);
    assert.ok(newPort !== undefined, `${to} has no port ${l.vm(vmName).ifname}`);
    await assertOffloadsState(
      mode,
      { ns: l.vm(vmName).netns, port: newPort },
      (await l.admin(to).call('sockets/show')).data,
    );

    // Every other VM of its network reaches it at its new place.
    for (const other of l.state.vms.filter((v) => v.name !== vmName && v.vni === l.vm(vmName).vni)) {
      assert.ok(await reaches(other.name, vmName), `${other.name} cannot reach ${vmName} on ${to}`);
    }
    return report;
  }

  test(named('every VM reaches every other of its network before the moves'), async () => {
    for (const a of lab().state.vms) {
      for (const b of lab().state.vms) {
        if (a !== b && a.vni === b.vni) assert.ok(await reaches(a.name, b.name), `${a.name} -> ${b.name}`);
      }
    }
  });

  // vm1 and vm3 are in VNI 100 (VXLAN), vm2 and vm4 in VNI 200 (GRE-in-UDP); vm1, vm2 start on h1.
  test(
    named('VXLAN: vm1 migrates h1 -> h3 under a 10 ms ping from vm3: traffic follows, h1 lets go, no flap'),
    async () => {
      await moveAndCheck('vm1', 'h3', 'vm3');
    },
  );

  test(named('VXLAN: vm1 migrates back h3 -> h1: the same holds on the way back'), async () => {
    await moveAndCheck('vm1', 'h1', 'vm3');
  });

  test(named('GRE-in-UDP: vm2 migrates h1 -> h3 under a 10 ms ping from vm4'), async () => {
    await moveAndCheck('vm2', 'h3', 'vm4');
  });
}

for (const mode of offloadModes())
  describe(`live migration in the namespace lab (offloads ${mode})`, () => migration(mode));
