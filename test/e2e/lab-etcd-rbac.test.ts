// The etcd RBAC layout of deploy/etcd/dvs-rbac.sh, exercised against a real
// etcd with authentication enabled: an agent writes only its own keys (plus
// the shared reports/), the controller owns the tables, a viewer only reads,
// and nobody without credentials gets in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdServer } from '@dvs/etcd/testing';

const script = join(process.cwd(), 'deploy/etcd/dvs-rbac.sh');
const passwords = { root: 'root-pw', controller: 'ctl-pw', agent: 'agent-pw', viewer: 'view-pw' };
let etcd: EtcdServer | null = null;

function etcdctl(user: string | null, args: string[]): Promise<{ ok: boolean; out: string }> {
  const env = { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: etcd!.endpoint };
  const argv = user ? ['--user', user, ...args] : args;
  return new Promise((resolve) => {
    execFile('etcdctl', argv, { env, timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, out: `${stdout}${stderr}` });
    });
  });
}

const agentA = `agent-host-a:${passwords.agent}`;
const controller = `controller:${passwords.controller}`;
const viewer = `dvs-viewer:${passwords.viewer}`;

before(async () => {
  etcd = await EtcdServer.start();
  await new Promise<void>((resolve, reject) => {
    execFile(
      'bash',
      [script, 'host-a', 'host-b'],
      {
        env: {
          ...process.env,
          ETCDCTL_ENDPOINTS: etcd!.endpoint,
          DVS_ROOT_PASSWORD: passwords.root,
          DVS_CONTROLLER_PASSWORD: passwords.controller,
          DVS_AGENT_PASSWORD: passwords.agent,
          DVS_VIEWER_PASSWORD: passwords.viewer,
        },
        timeout: 60_000,
      },
      (err, _out, stderr) => (err ? reject(new Error(`dvs-rbac.sh failed: ${stderr}`)) : resolve()),
    );
  });
});

after(async () => {
  await etcd?.stop();
});

test('the RBAC script exists and etcdctl is installed', () => {
  assert.ok(existsSync(script));
});

test('authentication is on: no credentials, no access', async () => {
  const r = await etcdctl(null, ['get', '/dvs/v1/', '--prefix']);
  assert.equal(r.ok, false, r.out);
});

test('an agent writes its own host, ports and status keys, on a lease', async () => {
  const lease = await etcdctl(agentA, ['lease', 'grant', '10']);
  assert.ok(lease.ok, lease.out);
  const id = /lease ([0-9a-f]+) granted/.exec(lease.out)?.[1];
  assert.ok(id, lease.out);
  for (const key of ['/dvs/v1/hosts/host-a', '/dvs/v1/ports/host-a/tap0', '/dvs/v1/status/host-a']) {
    const r = await etcdctl(agentA, ['put', `--lease=${id}`, key, 'x']);
    assert.ok(r.ok, `${key}: ${r.out}`);
  }
  const report = await etcdctl(agentA, ['put', '/dvs/v1/reports/100/02:00:00:00:00:01/host-a', 'x']);
  assert.ok(report.ok, report.out);
});

test("an agent cannot write another host's keys nor the controller's tables", async () => {
  for (const key of [
    '/dvs/v1/hosts/host-b',
    '/dvs/v1/ports/host-b/tap0',
    '/dvs/v1/status/host-b',
    '/dvs/v1/hosts/host-ab',
    '/dvs/v1/fdb/100/02:00:00:00:00:01',
    '/dvs/v1/flood/100',
    '/dvs/v1/networks/100',
    '/dvs/v1/election/controller/x',
  ]) {
    const r = await etcdctl(agentA, ['put', key, 'x']);
    assert.equal(r.ok, false, `${key} should be denied`);
    assert.match(r.out, /permission denied/, key);
  }
});

test('an agent reads the tables it follows', async () => {
  const put = await etcdctl(controller, ['put', '/dvs/v1/fdb/100/02:00:00:00:00:01', 'loc']);
  assert.ok(put.ok, put.out);
  const r = await etcdctl(agentA, ['get', '/dvs/v1/fdb/', '--prefix']);
  assert.ok(r.ok, r.out);
  assert.match(r.out, /loc/);
});

test('the controller owns the whole prefix and nothing outside it', async () => {
  for (const key of ['/dvs/v1/networks/100', '/dvs/v1/flood/100', '/dvs/v1/election/controller/1']) {
    const r = await etcdctl(controller, ['put', key, 'x']);
    assert.ok(r.ok, `${key}: ${r.out}`);
  }
  const outside = await etcdctl(controller, ['put', '/other/key', 'x']);
  assert.equal(outside.ok, false);
});

test('a viewer reads but never writes', async () => {
  const r = await etcdctl(viewer, ['get', '/dvs/v1/', '--prefix', '--keys-only']);
  assert.ok(r.ok, r.out);
  assert.match(r.out, /\/dvs\/v1\/hosts\/host-a/);
  const w = await etcdctl(viewer, ['put', '/dvs/v1/hosts/host-a', 'x']);
  assert.equal(w.ok, false);
});
