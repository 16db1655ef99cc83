// The kernel provider's switch features in the namespace lab (real etcd,
// controller, agents with `datapath: kernel`, veth VMs in Linux bridges):
//  - audit: the agents publish digests of what their vxlan devices hold;
//    an entry deleted behind the agent's back (`bridge fdb del`) is a
//    divergence, and `dvs audit --repair` puts it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, labControllerClient, type VmState } from '@dvs/lab';
import type { DivergencesView } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { waitVmPing } from '../support/lab-vms.js';
import { runDvs } from '../support/dvs-cli.js';
import { run } from '../support/run-command.js';

const VNI = 100;
let lab: Lab | null = null;

before(async () => {
  lab = await Lab.up({
    spec: { hosts: 3, vmsPerHost: 1, kernelHosts: 0, datapath: 'kernel', networks: [{ vni: VNI, encap: 'vxlan' }] },
  });
});

after(async () => {
  if (lab) assert.deepEqual(await lab.down(), [], 'teardown left something behind');
});

const vmOn = (host: string): VmState => lab!.state.vms.find((v) => v.host === host)!;

async function audit(): Promise<{ status: number; view: DivergencesView }> {
  const r = await runDvs(['--lab', lab!.id, 'audit', '--json']);
  assert.ok(r.code === 0 || r.code === 1, `dvs audit: ${r.stdout}${r.stderr}`);
  return { status: r.code, view: JSON.parse(r.stdout) as DivergencesView };
}

test('audit: a kernel-provider host is in sync; an FDB entry deleted with `bridge fdb del` diverges and is repaired', async () => {
  const l = lab!;
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await waitVmPing(l, a, b, 'before');
  await waitVmPing(l, b, a, 'before');
  const bMac = b.mac.toLowerCase();
  await waitFor('the controller places the h2 VM at h2', async () => {
    const entries = await labControllerClient(l.state).fdb({ vni: VNI, mac: bMac });
    return entries[0]?.host === 'h2';
  });
  const clean = await waitFor(
    'a clean audit of the three kernel-provider hosts',
    async () => {
      const r = await audit();
      return r.status === 0 && r.view.checkedHosts === 3 ? r.view : undefined;
    },
    30_000,
    500,
  );
  assert.deepEqual(clean.divergences, []);

  const h1 = l.host('h1');
  await run(['bridge', '-n', h1.netns, 'fdb', 'del', bMac, 'dev', 'dvsvx100', 'self']);
  const caught = await waitFor(
    'the audit names the deleted entry',
    async () => {
      const r = await audit();
      const d = r.view.divergences.find((x) => x.table === 'fdb' && x.mac === bMac);
      return r.status === 1 && d !== undefined ? { view: r.view, d } : undefined;
    },
    30_000,
    500,
  );
  assert.equal(caught.d.host, 'h1');
  assert.equal(caught.d.agentHas, 'nothing', JSON.stringify(caught.d));
  assert.equal(caught.d.intends, `${l.host('h2').underlayAddress}:4789`);
  assert.deepEqual(caught.view.divergentHosts, ['h1']);

  const repair = await runDvs(['--lab', l.id, 'audit', '--repair']);
  assert.match(repair.stdout, new RegExp(`resync requested: h1 VNI ${VNI}`));
  await waitFor(
    'a clean audit after the repair',
    async () => {
      const r = await audit();
      return r.status === 0 && r.view.checkedHosts === 3 ? true : undefined;
    },
    30_000,
    500,
  );
  const fdb = (await run(['bridge', '-n', h1.netns, 'fdb', 'show', 'dev', 'dvsvx100'])).stdout;
  assert.match(fdb, new RegExp(`${bMac} dst ${l.host('h2').underlayAddress.replace(/\./g, '\\.')} .*self`));
  await waitVmPing(l, a, b, 'after the repair');
});
