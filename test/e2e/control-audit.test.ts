// `dvs audit` in the namespace lab (real etcd, controller, agents, VMs): the
// agents publish their table digests, the controller compares them with its
// tables. A wrong FDB entry injected into one agent's data path through its
// admin socket is caught — named by host, VNI and MAC, what the agent has and
// what the controller intends — `dvs status` counts the host among its
// problems, and `dvs audit --repair` makes the agent apply the VNI afresh:
// the audit is clean again and the VMs reach each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labControllerClient } from '@dvs/lab';
import type { StatusView } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { waitVmPing } from '../support/lab-vms.js';
import { runDvs } from '../support/dvs-cli.js';
import { waitForCleanAudit, waitForFdbDivergence } from '../support/lab-audit.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
const WRONG_VTEP = '198.51.100.99';
const lab = useLab({ hosts: 2, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: VNI, encap: 'vxlan' }] });

function dvs(...args: string[]) {
  return runDvs(['--lab', lab().id, ...args]);
}

test('dvs audit catches a wrong FDB entry injected through an agent admin socket; --repair fixes it', async () => {
  const l = lab();
  const a = l.state.vms.find((v) => v.host === 'h1')!;
  const b = l.state.vms.find((v) => v.host === 'h2')!;
  const h2 = l.host('h2');
  await waitVmPing(l, a, b, 'before');
  await waitVmPing(l, b, a, 'before');
  const bMac = b.mac.toLowerCase();
  await waitFor('the controller places the h2 VM at h2', async () => {
    const res = await labControllerClient(l.state).send('GET', `/v1/fdb?vni=${VNI}&mac=${bMac}`);
    return (res.body as { entries: { host: string }[] }).entries[0]?.host === 'h2';
  });

  // Clean: both agents publish digests that match the tables.
  const clean = await waitForCleanAudit(l, 2, 'a clean audit of both hosts');
  assert.deepEqual(clean.divergences, []);

  // h1's data path now sends h2's VM to a VTEP nobody has.
  await l.admin('h1').call('fdb/set', [String(VNI), bMac, WRONG_VTEP]);
  const caught = await waitForFdbDivergence(l, bMac, 'the audit names the injected entry');
  assert.deepEqual(caught.d, {
    host: 'h1',
    vni: VNI,
    table: 'fdb',
    mac: bMac,
    agentHas: `${WRONG_VTEP}:4789`,
    intends: `${h2.underlayAddress}:4789`,
    since: caught.d.since,
  });
  assert.deepEqual(caught.view.divergentHosts, ['h1']);
  const text = await dvs('audit');
  assert.equal(text.code, 1, text.stdout + text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`h1\\s+${VNI}\\s+fdb\\s+${bMac}\\s+${WRONG_VTEP}:4789\\s+${h2.underlayAddress}:4789`),
  );

  const statusRun = await dvs('status', '--json');
  const status = JSON.parse(statusRun.stdout) as StatusView;
  assert.equal(status.divergentHosts, 1, statusRun.stdout);
  assert.ok(
    status.problems.some((p) => p.kind === 'tables-divergent' && p.host === 'h1'),
    JSON.stringify(status.problems),
  );

  const repair = await dvs('audit', '--repair');
  assert.equal(repair.code, 1, 'it still reports what diverged when asked to repair');
  assert.match(repair.stdout, new RegExp(`resync requested: h1 VNI ${VNI}`));
  await waitForCleanAudit(l, 2, 'a clean audit after the repair');
  const { data } = await l.admin('h1').call('fdb/show', [String(VNI)]);
  const entry = (data as { mac: string; location: string }[]).find((e) => e.mac === bMac);
  assert.ok(entry !== undefined && !JSON.stringify(entry).includes(WRONG_VTEP), JSON.stringify(entry));
  await waitVmPing(l, a, b, 'after the repair');
  const after = JSON.parse((await dvs('status', '--json')).stdout) as StatusView;
  assert.equal(after.divergentHosts, 0);
});
