// The whole system under the production RBAC layout: etcd with authentication
// and deploy/etcd/dvs-rbac.sh's roles, the controller logged in as
// `controller`, each agent as its own `agent-<host>`. Tables still converge
// (VMs ping, a migration reaches the controller's table), and an agent's
// credentials cannot touch another host's keys or the controller's tables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, ContinuousPing, migrateVm, runPingMatrix } from '@dvs/lab';

let lab: Lab | null = null;

before(async () => {
  lab = await Lab.up({
    spec: { hosts: 2, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }], etcdAuth: true },
  });
});

after(async () => {
  if (lab) assert.deepEqual(await lab.down(), []);
});

async function etcdctl(user: string, args: string[]) {
  return lab!.exec('ul', ['etcdctl', '--endpoints', lab!.state.etcd!.endpoints[0], '--user', user, ...args]);
}

test('the lab runs with etcd authentication on and agents following etcd', () => {
  assert.ok(lab!.state.etcdCredentials, 'no credentials recorded');
  assert.equal(lab!.state.agentsUseEtcd, true);
});

test('VMs reach each other through tables the controller wrote under RBAC', async () => {
  const m = await runPingMatrix(lab!);
  assert.ok(m.ok, JSON.stringify(m.results));
  const noAuth = await lab!.exec('ul', [
    'etcdctl',
    '--endpoints',
    lab!.state.etcd!.endpoints[0],
    'get',
    '/dvs/v1/fdb/',
    '--prefix',
  ]);
  assert.notEqual(noAuth.code, 0, 'etcd answered without credentials');
  const fdb = await etcdctl(`agent-h1:${lab!.state.etcdCredentials!.agent}`, [
    'get',
    '/dvs/v1/fdb/100/',
    '--prefix',
    '--keys-only',
  ]);
  assert.equal(fdb.code, 0, fdb.stderr);
  for (const v of lab!.state.vms) assert.match(fdb.stdout, new RegExp(v.mac), `${v.mac} not in the controller's FDB`);
});

test("a migration reaches every agent and the controller's table under RBAC", async () => {
  const ping = new ContinuousPing(lab!.vm('vm2').netns, lab!.vm('vm1').address, 10);
  try {
    await ping.waitForReplies(20, 10_000);
    const r = await migrateVm(lab!, 'vm1', 'h2', { ping, holdMs: 500 });
    for (const o of r.observers) assert.equal(o.final, 'h2', `${o.name}: ${o.final}`);
    assert.notEqual(r.controllerConvergedMs, null, 'the controller table never followed');
    assert.equal(r.flaps, 0);
  } finally {
    await ping.stop();
  }
});

test("an agent's credentials cannot write another host's keys nor the tables", async () => {
  const agentH1 = `agent-h1:${lab!.state.etcdCredentials!.agent}`;
  for (const key of ['/dvs/v1/hosts/h2', '/dvs/v1/fdb/100/02:00:00:00:00:99', '/dvs/v1/flood/100']) {
    const r = await etcdctl(agentH1, ['put', key, 'x']);
    assert.notEqual(r.code, 0, `${key} was writable by agent-h1`);
    assert.match(r.stderr, /permission denied/);
  }
});
