// Each host confined to its own keys, against a real etcd with authentication
// on and one identity per host (deploy/etcd/dvs-rbac.sh): what a compromised
// host tries is refused by etcd RBAC, or ignored by the controller and
// counted (dvs_controller_records_ignored_total, a `dvs status` problem
// naming the host) — while the honest hosts' records keep working.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDvsRbac, EtcdServer, type DvsRbac } from '@dvs/etcd/testing';
import { decodeFdbEntry, decodeFloodList, isRecordError, KeyLayout, type Problem } from '@dvs/wire';
import { Etcd3, EtcdPermissionDeniedError } from 'etcd3';
import { Controller } from '../src/index.js';
import { api } from './support/controller-harness.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from '@dvs/test-support';

const VM1 = '02:00:00:00:71:01';
const keys = new KeyLayout();
let etcd: EtcdServer;
let dir: string;
let rbac: DvsRbac;
let controller: Controller;
let root: Etcd3;
const agents: FakeAgent[] = [];
let h1: FakeAgent;
let h2: FakeAgent;

function host(name: string, address: string, labels?: Record<string, string>): FakeAgent {
  const a = new FakeAgent(etcd.endpoint, name, address, 10, undefined, {
    auth: rbac.login(`agent-${name}`),
    ...(labels ? { labels } : {}),
  });
  agents.push(a);
  return a;
}

async function fdbHost(mac: string, vni = 100): Promise<string | null> {
  const buf = await root.get(keys.fdb(vni, mac)).buffer();
  if (buf === null) return null;
  const e = decodeFdbEntry(buf);
  return isRecordError(e) ? null : e.host;
}

/** A sample of dvs_controller_records_ignored_total, through the API's /metrics. */
async function ignoredTotal(kind: 'report' | 'port', reason: string): Promise<number> {
  const text = (await api<string>(controller, 'GET', '/metrics')).body;
  const m = new RegExp(
    `^dvs_controller_records_ignored_total\\{kind="${kind}",reason="${reason}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function problems(): Promise<Problem[]> {
  return (await api<{ problems: Problem[] }>(controller, 'GET', '/v1/status')).body.problems;
}

before(async () => {
  etcd = await EtcdServer.start();
  dir = await mkdtemp(join(tmpdir(), 'dvs-etcd-trust-'));
  rbac = await applyDvsRbac(etcd.endpoint, ['h1', 'h2', 'h3'], { passwordDir: dir, root: 'root-pw' });
  root = new Etcd3({ hosts: etcd.endpoint, auth: { username: 'root', password: 'root-pw' } });
  controller = await Controller.start({
    id: 'ctl-trust',
    etcd: { endpoints: [etcd.endpoint], ...rbac.login('controller') },
    listen: '127.0.0.1:0',
    api: { insecureLocal: true },
    electionTtlSeconds: 2,
  });
  await waitFor('leadership', () => (controller.isLeader ? true : undefined));
  assert.equal((await api(controller, 'POST', '/v1/networks', { vni: 100, name: 'open' })).status, 201);
  const restricted = { vni: 200, name: 'restricted', allowedHosts: ['h1'], allowedLabels: ['zone=blue'] };
  assert.equal((await api(controller, 'POST', '/v1/networks', restricted)).status, 201);
  h1 = host('h1', '192.0.2.1');
  h2 = host('h2', '192.0.2.2');
  await h1.register([
    { port: 'tap0', vni: 100 },
    { port: 'tap1', vni: 200 },
  ]);
  await h2.register([
    { port: 'tap0', vni: 100 },
    { port: 'tap1', vni: 200 },
  ]);
  await h1.report(100, VM1, 0);
  await waitFor('vm1 at h1', async () => ((await fdbHost(VM1)) === 'h1' ? true : undefined));
});

after(async () => {
  for (const a of agents) await a.close();
  root?.close();
  await controller?.stop();
  await etcd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a host writing or deleting another host's report is refused by etcd RBAC", async () => {
  const forged = h2.client
    .put(keys.report('h1', 100, VM1))
    .value(h2.reportValue(100, VM1, 1))
    .exec();
  await assert.rejects(forged, EtcdPermissionDeniedError);
  await assert.rejects(
    h2.client
      .delete()
      .key(keys.report('h1', 100, VM1))
      .exec(),
    EtcdPermissionDeniedError,
  );
  // Nor can it borrow h1's lease for a key of its own: etcd checks the keys already on a lease.
  const borrowed = h2.client
    .put(keys.report('h2', 100, VM1))
    .value(h2.reportValue(100, VM1, 1))
    .lease(await h1.leaseId())
    .exec();

  await assert.rejects(borrowed, EtcdPermissionDeniedError);

  assert.notEqual(await root.get(keys.report('h1', 100, VM1)).buffer(), null, "h1's report is intact");
  assert.equal(await fdbHost(VM1), 'h1');
});

test('a report at maximum seq is ignored by the controller and counted; seq + 1 still moves the MAC', async () => {
  assert.equal(await ignoredTotal('report', 'seq-jump'), 0);
  await h2.report(100, VM1, 0xffffffff); // its own key, its own live lease
  await waitFor('counted', async () => ((await ignoredTotal('report', 'seq-jump')) === 1 ? true : undefined));
  await controller.reconcileNow();
  assert.equal(await fdbHost(VM1), 'h1', 'the MAC stays where its owner reported it');
  const p = (await problems()).find((x) => x.kind === 'record-ignored' && x.reason === 'seq-jump');
  assert.equal(p?.host, 'h2');
  assert.match(
    p?.message ?? '',
    /^h2: 1 MAC report ignored .*02:00:00:00:71:01 in VNI 100: seq 4294967295, at most 1 accepted/,
  );
  // The same host, honestly: seq + 1 is a move (RFC 7432), and the controller follows it.
  await h2.report(100, VM1, 1);
  await waitFor('vm1 moved to h2', async () => ((await fdbHost(VM1)) === 'h2' ? true : undefined));
  assert.equal(await ignoredTotal('report', 'seq-jump'), 1, 'counted once, not once per round');
  assert.equal((await problems()).filter((x) => x.reason === 'seq-jump').length, 0, 'the problem went with it');
  await h2.withdraw(100, VM1);
  await waitFor('vm1 back at h1', async () => ((await fdbHost(VM1)) === 'h1' ? true : undefined));
});

test("a report under a lease that is not the host's live lease is ignored and counted", async () => {
  const mac = '02:00:00:00:72:01';
  const other = h2.client.lease(30);
  other.on('lost', () => undefined);
  try {
    await other.put(keys.report('h2', 100, mac)).value(h2.reportValue(100, mac, 0));
    await h2.client.put(keys.report('h2', 100, '02:00:00:00:72:02')).value(h2.reportValue(100, '02:00:00:00:72:02', 0));
    await waitFor('both counted', async () =>
      (await ignoredTotal('report', 'foreign-lease')) === 2 ? true : undefined,
    );
    await controller.reconcileNow();
    assert.equal(await fdbHost(mac), null, 'no FDB entry from a report that would outlive its host');
    assert.equal(await fdbHost('02:00:00:00:72:02'), null);
    const p = (await problems()).find((x) => x.kind === 'record-ignored' && x.reason === 'foreign-lease');
    assert.match(p?.message ?? '', /^h2: 2 MAC reports ignored \(foreign-lease/);
  } finally {
    await other.revoke().catch(() => undefined);
    await h2.client
      .delete()
      .key(keys.report('h2', 100, '02:00:00:00:72:02'))
      .exec();
  }
});

test('a host not admitted to a restricted VNI stays out of its flood list and FDB; a label admits another', async () => {
  const h3 = host('h3', '192.0.2.3', { zone: 'blue' });
  await h3.register([{ port: 'tap0', vni: 200 }]);
  await h2.report(200, '02:00:00:00:73:02', 0);
  const members = async (): Promise<string[]> => {
    const buf = await root.get(keys.flood(200)).buffer();
    const f = buf === null ? null : decodeFloodList(buf);
    return f === null || isRecordError(f) ? [] : f.members.map((m) => m.host ?? m.address);
  };
  await waitFor('h3 joins by its label', async () => ((await members()).includes('h3') ? true : undefined));
  await controller.reconcileNow();
  assert.deepEqual(await members(), ['h1', 'h3'], 'h2 has a port in VNI 200 and is not in its flood list');
  assert.equal(await fdbHost('02:00:00:00:73:02', 200), null);
  assert.equal(await ignoredTotal('port', 'not-allowed'), 1);
  assert.equal(await ignoredTotal('report', 'not-allowed'), 1);
  assert.ok((await problems()).some((x) => x.host === 'h2' && x.reason === 'not-allowed' && x.vni === 200));
  // The membership list is what kept it out: admitted, h2 joins.
  assert.equal((await api(controller, 'PATCH', '/v1/networks/200', { allowedHosts: ['h1', 'h2'] })).status, 200);
  await waitFor('h2 admitted', async () => ((await members()).includes('h2') ? true : undefined));
  assert.equal(await fdbHost('02:00:00:00:73:02', 200), 'h2');
});
