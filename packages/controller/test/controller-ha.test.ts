import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFdbEntry, KeyLayout, RecordError } from '@dvs/wire';
import { Etcd3 } from 'etcd3';
import { EtcdServer } from '@dvs/etcd/testing';
import { api, startController } from './support/controller-harness.js';
import { ControllerProcess } from './support/controller-process.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from '@dvs/test-support';

let etcd: EtcdServer;
let client: Etcd3;
const keys = new KeyLayout();

before(async () => {
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint });
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

async function fdbHost(vni: number, mac: string, layout = keys): Promise<string | null | undefined> {
  const buf = await client.get(layout.fdb(vni, mac)).buffer();
  if (buf === null) return undefined;
  const r = decodeFdbEntry(buf);
  return r instanceof RecordError ? undefined : r.host;
}

test('failover: SIGKILL the leader process; the standby takes over and a new network and MAC propagate', async () => {
  const first = await ControllerProcess.spawn(etcd.endpoint, 'ctl-1');
  let second: ControllerProcess | null = null;
  const agent = new FakeAgent(etcd.endpoint, 'ha-host', '192.0.2.50');
  try {
    await waitFor('ctl-1 leader', async () => {
      const res = await api<{ leader: boolean }>(first.address, 'GET', '/healthz');
      return res.body.leader ? true : undefined;
    });
    second = await ControllerProcess.spawn(etcd.endpoint, 'ctl-2');
    const standby = await waitFor('ctl-2 healthy as standby', async () => {
      const res = await api<{ status: string; leader: boolean }>(second!.address, 'GET', '/healthz');
      return res.body.status === 'ok' ? res.body : undefined;
    });
    assert.equal(standby.leader, false);
    const seen = await api<{ controller: { leaderId: string } }>(second.address, 'GET', '/v1/status');
    assert.equal(seen.body.controller.leaderId, 'ctl-1');

    await first.kill('SIGKILL');
    await waitFor(
      'ctl-2 takes over',
      async () => {
        const res = await api<{ leader: boolean }>(second!.address, 'GET', '/healthz');
        return res.body.leader ? true : undefined;
      },
      10_000,
    );

    assert.equal((await api(second.address, 'POST', '/v1/networks', { vni: 300, name: 'after-failover' })).status, 201);
    await agent.register([{ port: 'tap0', vni: 300 }]);
    await agent.report(300, '02:00:00:00:30:01', 0);
    await waitFor('entry written by the new leader', async () =>
      (await fdbHost(300, '02:00:00:00:30:01')) === 'ha-host' ? true : undefined,
    );
    const status = await api<{ controller: { leaderId: string } }>(second.address, 'GET', '/v1/status');
    assert.equal(status.body.controller.leaderId, 'ctl-2');
  } finally {
    await agent.close();
    await first.kill('SIGKILL');
    await second?.kill('SIGTERM');
  }
});

test('SIGTERM on the leader resigns at once: the standby takes over without waiting for the TTL', async () => {
  const args = ['--election-ttl', '30', '--prefix', '/dvs-resign/'];
  const first = await ControllerProcess.spawn(etcd.endpoint, 'ctl-3', args);
  const second = await ControllerProcess.spawn(etcd.endpoint, 'ctl-4', args);
  try {
    await waitFor('ctl-3 leader', async () =>
      (await api<{ leader: boolean }>(first.address, 'GET', '/healthz')).body.leader ? true : undefined,
    );
    await waitFor('ctl-4 ready', async () =>
      (await api<{ status: string }>(second.address, 'GET', '/healthz')).body.status === 'ok' ? true : undefined,
    );
    await first.kill('SIGTERM');
    assert.equal(first.child.exitCode, 0);
    // Far below the 30 s TTL: resignation, not expiry.
    await waitFor(
      'ctl-4 leader',
      async () => ((await api<{ leader: boolean }>(second.address, 'GET', '/healthz')).body.leader ? true : undefined),
      8000,
    );
  } finally {
    await first.kill('SIGKILL');
    await second.kill('SIGTERM');
  }
});

test('a deposed leader cannot overwrite: its guarded write is refused and it steps down', async () => {
  const prefix = '/dvs-deposed/';
  const k = new KeyLayout(prefix);
  const a = await startController(etcd.endpoint, 'ctl-a', { prefix });
  await waitFor('ctl-a leader', () => (a.isLeader ? true : undefined));
  const b = await startController(etcd.endpoint, 'ctl-b', { prefix });
  const agent = new FakeAgent(etcd.endpoint, 'dep-host', '192.0.2.60', 10, prefix);
  try {
    assert.equal((await api(a, 'POST', '/v1/networks', { vni: 400, name: 'dep' })).status, 201);
    await waitFor('ctl-b view loaded', () => (b.view.networks.has(400) ? true : undefined));
    // ctl-a's lease "expires" behind its back (as when it was partitioned): its key vanishes.
    const all = await client.getAll().prefix(k.election()).exec();
    const oldest = all.kvs.sort((x, y) => Number(x.create_revision) - Number(y.create_revision))[0]!;
    assert.equal(oldest.value.toString(), 'ctl-a');
    await client.delete().key(oldest.key.toString());
    await waitFor('ctl-b elected', () => (b.isLeader ? true : undefined));
    // A change both compute: ctl-a's write must be refused, ctl-b's lands.
    await agent.register([{ port: 'tap0', vni: 400 }]);
    await agent.report(400, '02:00:00:00:40:01', 0);
    // Its lease is alive, so only a refused guarded write can make it step down.
    await waitFor('ctl-a steps down', () => (a.isLeader ? undefined : true));
    await waitFor('entry written', async () =>
      (await client.get(k.fdb(400, '02:00:00:00:40:01')).buffer()) !== null ? true : undefined,
    );
    assert.ok(a.metrics.writeConflicts >= 1);
    assert.equal(b.isLeader, true);
  } finally {
    await agent.close();
    await a.stop();
    await b.stop();
  }
});

test('etcd stopped and restarted: the controller serves cached reads, refuses writes with 503, then resumes', async () => {
  const prefix = '/dvs-outage/';
  const k = new KeyLayout(prefix);
  const c = await startController(etcd.endpoint, 'ctl-outage', { prefix });
  const agent = new FakeAgent(etcd.endpoint, 'out-host', '192.0.2.70', 20, prefix);
  try {
    await waitFor('leader', () => (c.isLeader ? true : undefined));
    await api(c, 'POST', '/v1/networks', { vni: 500, name: 'outage' });
    await agent.register([{ port: 'tap0', vni: 500 }]);
    await agent.report(500, '02:00:00:00:50:01', 0);
    await waitFor('entry', async () =>
      (await fdbHost(500, '02:00:00:00:50:01', k)) === 'out-host' ? true : undefined,
    );

    await etcd.halt();
    await waitFor('controller sees etcd down', () => (c.etcdUp ? undefined : true));
    const cached = await api<{ entries: { mac: string }[] }>(c, 'GET', '/v1/fdb?vni=500');
    assert.deepEqual(
      cached.body.entries.map((e) => e.mac),
      ['02:00:00:00:50:01'],
    );
    const health = await api<{ status: string; etcd: string }>(c, 'GET', '/healthz');
    assert.equal(health.status, 503);
    assert.equal(health.body.etcd, 'down');
    const networks = await api<{ networks: { vni: number }[] }>(c, 'GET', '/v1/networks');
    assert.equal(networks.status, 200, 'networks served from the last known state');
    assert.deepEqual(
      networks.body.networks.map((n) => n.vni),
      [500],
    );
    const write = await api<{ error: { code: string } }>(c, 'POST', '/v1/networks', { vni: 501, name: 'during' });
    assert.equal(write.status, 503);
    assert.equal(write.body.error.code, 'DVS_ETCD_UNAVAILABLE');

    // Longer than twice the election TTL (2 s): the controller's campaign lease is given up.
    await new Promise((r) => setTimeout(r, 5000));
    await etcd.restart();
    await waitFor('controller sees etcd up', () => (c.etcdUp ? true : undefined), 15_000);
    await waitFor('leader again', () => (c.isLeader ? true : undefined), 15_000);
    await agent.report(500, '02:00:00:00:50:02', 0);
    await waitFor(
      'new entry after the outage',
      async () => ((await fdbHost(500, '02:00:00:00:50:02', k)) === 'out-host' ? true : undefined),
      15_000,
    );
    assert.equal((await api(c, 'POST', '/v1/networks', { vni: 501, name: 'after' })).status, 201);
  } finally {
    await agent.close();
    await c.stop();
  }
});
