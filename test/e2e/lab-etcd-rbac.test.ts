// The etcd RBAC layout of deploy/etcd/dvs-rbac.sh, exercised against a real
// etcd with authentication enabled: one identity per host, each writing only
// its own keys (its reports included) and reading only the tables; the
// controller owns the prefix, a viewer only reads, nobody without
// credentials gets in. Run over an etcd the earlier script had set up, so
// its broader grants are shown revoked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdServer, runDvsRbac } from '@dvs/etcd/testing';

const passwords = { root: 'root-pw', controller: 'ctl-pw', viewer: 'view-pw' };
let etcd: EtcdServer | null = null;
let passwordDir = '';
const agentPassword: Record<string, string> = {};

function etcdctl(user: string | null, args: string[]): Promise<{ ok: boolean; out: string }> {
  const env = { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: etcd!.endpoint };
  return new Promise((resolve) => {
    execFile('etcdctl', user ? ['--user', user, ...args] : args, { env, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ ok: err === null, out: `${stdout}${stderr}` }),
    );
  });
}

function rbac(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runDvsRbac(etcd!.endpoint, args, {
    DVS_ROOT_PASSWORD: passwords.root,
    DVS_CONTROLLER_PASSWORD: passwords.controller,
    DVS_VIEWER_PASSWORD: passwords.viewer,
    DVS_PASSWORD_DIR: passwordDir,
    ...env,
  });
}

const agent = (h: string) => `agent-${h}:${agentPassword[h]}`;
const controller = `controller:${passwords.controller}`;
const viewer = `dvs-viewer:${passwords.viewer}`;

before(async () => {
  etcd = await EtcdServer.start();
  passwordDir = join(await mkdtemp(join(tmpdir(), 'dvs-rbac-')), 'passwords');
  // What the earlier script granted: reports/ to every agent, the whole prefix readable.
  for (const args of [
    ['role', 'add', 'dvs-agent-host-a'],
    ['role', 'grant-permission', 'dvs-agent-host-a', 'readwrite', '/dvs/v1/reports/', '--prefix=true'],
    ['role', 'add', 'dvs-agent-read'],
    ['role', 'grant-permission', 'dvs-agent-read', 'read', '/dvs/v1/', '--prefix=true'],
  ]) {
    const r = await etcdctl(null, args);
    assert.ok(r.ok, r.out);
  }
  const r = await rbac(['host-a', 'host-b', 'host-c']);
  assert.equal(r.code, 0, `dvs-rbac.sh failed: ${r.output}`);
  for (const h of ['host-a', 'host-b', 'host-c']) {
    agentPassword[h] = (await readFile(join(passwordDir, `agent-${h}.password`), 'utf8')).trim();
  }
});

after(async () => {
  await etcd?.stop();
  if (passwordDir) await rm(join(passwordDir, '..'), { recursive: true, force: true });
});

test('authentication is on: no credentials, no access', async () => {
  const r = await etcdctl(null, ['get', '/dvs/v1/', '--prefix']);
  assert.equal(r.ok, false, r.out);
});

test('one password per host, readable by root only, and none logs in as another host', async () => {
  assert.notEqual(agentPassword['host-a'], agentPassword['host-b']);
  assert.ok(agentPassword['host-a']!.length >= 32);
  assert.equal((await stat(join(passwordDir, 'agent-host-a.password'))).mode & 0o077, 0, 'file mode 0600');
  const wrong = await etcdctl(`agent-host-a:${agentPassword['host-b']}`, ['get', '/dvs/v1/fdb/', '--prefix']);
  assert.equal(wrong.ok, false, "host-b's password logged in as agent-host-a");
  assert.match(wrong.out, /authentication failed/);
});

test('an agent writes its own host, ports, status and reports keys, on a lease', async () => {
  const lease = await etcdctl(agent('host-a'), ['lease', 'grant', '10']);
  assert.ok(lease.ok, lease.out);
  const id = /lease ([0-9a-f]+) granted/.exec(lease.out)?.[1];
  assert.ok(id, lease.out);
  for (const key of [
    '/dvs/v1/hosts/host-a',
    '/dvs/v1/ports/host-a/tap0',
    '/dvs/v1/status/host-a',
    '/dvs/v1/reports/host-a/100/02:00:00:00:00:01',
  ]) {
    const r = await etcdctl(agent('host-a'), ['put', `--lease=${id}`, key, 'x']);
    assert.ok(r.ok, `${key}: ${r.out}`);
  }
});

test("an agent cannot write another host's keys, its reports included, nor the controller's tables", async () => {
  for (const key of [
    '/dvs/v1/hosts/host-b',
    '/dvs/v1/ports/host-b/tap0',
    '/dvs/v1/status/host-b',
    '/dvs/v1/hosts/host-ab',
    '/dvs/v1/reports/host-b/100/02:00:00:00:00:01',
    '/dvs/v1/reports/host-ab/100/02:00:00:00:00:01',
    '/dvs/v1/reports/100/02:00:00:00:00:01/host-a', // layout 1: no host prefix, no grant
    '/dvs/v1/fdb/100/02:00:00:00:00:01',
    '/dvs/v1/flood/100',
    '/dvs/v1/networks/100',
    '/dvs/v1/layout',
    '/dvs/v1/election/controller/x',
  ]) {
    const r = await etcdctl(agent('host-a'), ['put', key, 'x']);
    assert.equal(r.ok, false, `${key} should be denied`);
    assert.match(r.out, /permission denied/, key);
  }
  const del = await etcdctl(agent('host-b'), ['del', '/dvs/v1/reports/host-a/100/02:00:00:00:00:01']);
  assert.equal(del.ok, false, "host-b deleted host-a's report");
});

test("an agent reads the tables it follows, not other hosts' records nor the audit history", async () => {
  for (const [key, value] of [
    ['/dvs/v1/fdb/100/02:00:00:00:00:01', 'loc'],
    ['/dvs/v1/audit/1', 'who did what'],
  ]) {
    const put = await etcdctl(controller, ['put', key!, value!]);
    assert.ok(put.ok, put.out);
  }
  for (const prefix of ['/dvs/v1/fdb/', '/dvs/v1/flood/', '/dvs/v1/hosts/', '/dvs/v1/networks/', '/dvs/v1/layout']) {
    const r = await etcdctl(agent('host-a'), ['get', prefix, '--prefix']);
    assert.ok(r.ok, `${prefix}: ${r.out}`);
  }
  assert.match((await etcdctl(agent('host-a'), ['get', '/dvs/v1/fdb/', '--prefix'])).out, /loc/);
  for (const prefix of ['/dvs/v1/audit/', '/dvs/v1/reports/', '/dvs/v1/']) {
    const r = await etcdctl(agent('host-a'), ['get', prefix, '--prefix']);
    assert.equal(r.ok, false, `${prefix} readable by an agent`);
  }
});

test('the controller owns the whole prefix and nothing outside it', async () => {
  for (const key of ['/dvs/v1/networks/100', '/dvs/v1/flood/100', '/dvs/v1/election/controller/1', '/dvs/v1/layout']) {
    const r = await etcdctl(controller, ['put', key, 'x']);
    assert.ok(r.ok, `${key}: ${r.out}`);
  }
  const outside = await etcdctl(controller, ['put', '/other/key', 'x']);
  assert.equal(outside.ok, false);
});

test('a viewer reads but never writes', async () => {
  const r = await etcdctl(viewer, ['get', '/dvs/v1/', '--prefix', '--keys-only']);
  assert.ok(r.ok, r.out);
  assert.match(r.out, /\/dvs\/v1\/networks\/100/);
  const w = await etcdctl(viewer, ['put', '/dvs/v1/hosts/host-a', 'x']);
  assert.equal(w.ok, false);
});

test('a re-run keeps every password; --remove takes a host identity away', async () => {
  const again = await rbac(['host-a']);
  assert.equal(again.code, 0, again.output);
  assert.equal((await readFile(join(passwordDir, 'agent-host-a.password'), 'utf8')).trim(), agentPassword['host-a']);
  assert.ok((await etcdctl(agent('host-a'), ['get', '/dvs/v1/fdb/', '--prefix'])).ok, 'host-a still logs in');
  const removed = await rbac(['--remove', 'host-c']);
  assert.equal(removed.code, 0, removed.output);
  const gone = await etcdctl(agent('host-c'), ['get', '/dvs/v1/fdb/', '--prefix']);
  assert.equal(gone.ok, false, 'a removed host still logs in');
});

test('one password shared by all agents is refused, naming the way it is done now', async () => {
  const r = await rbac(['host-d'], { DVS_AGENT_PASSWORD: 'shared' });
  assert.equal(r.code, 2);
  assert.match(r.output, /DVS_PASSWORD_DIR .*DVS_AUTH=cert/);
});
