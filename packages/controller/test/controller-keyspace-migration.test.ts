// Upgrading a keyspace of key layout 1 (reports/<vni>/<mac>/<host>) against a
// real etcd seeded the way a layout-1 cluster leaves it: the real
// dvs-controller refuses to start, names the command and changes nothing;
// `dvs-controller --migrate-keyspace` moves the reports (same value, same
// lease), and the controller then starts on the converted keyspace and keeps
// the FDB. An agent still writing layout-1 keys is named by `dvs status`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdServer } from '@dvs/etcd/testing';
import {
  decodeKeyspaceLayout,
  encodeFdbEntry,
  encodeKeyspaceLayout,
  encodeHost,
  encodeNetwork,
  encodePort,
  encodeReport,
  isRecordError,
  KeyLayout,
  type Problem,
} from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import { Etcd3, type Lease } from 'etcd3';
import type { Controller } from '../src/index.js';
import { api, startController } from './support/controller-harness.js';
import { ControllerProcess } from './support/controller-process.js';
import { waitFor } from '@dvs/test-support';

const keys = new KeyLayout();
const MAC = '02:00:00:00:81:01';
const OLD_REPORT = `${keys.section('report')}100/${MAC}/h1`;
const LEASELESS_REPORT = `${keys.section('report')}100/02:00:00:00:81:02/h1`;
let etcd: EtcdServer;
let client: Etcd3;
let lease: Lease;
let leaseId: string;

type Snapshot = Map<string, { value: string; lease: string }>;
async function snapshot(): Promise<Snapshot> {
  const res = await client.getAll().prefix(keys.prefix).exec();
  return new Map(
    res.kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString('hex'), lease: String(kv.lease) }]),
  );
}

before(async () => {
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint });
  lease = client.lease(60);
  lease.on('lost', () => undefined);
  leaseId = await lease.grant();
  // What a layout-1 cluster leaves: the network, h1 on its lease with a port and a report, the FDB entry.
  await client
    .put(keys.network(100))
    .value(encodeNetwork(sampleNetwork(100, { name: 'blue', createdAt: 1, updatedAt: 1 })));
  await lease.put(keys.host('h1')).value(
    encodeHost({
      host: 'h1',
      vtep: { address: '192.0.2.1', port: 4789 },
      encaps: ['vxlan'],
      agentVersion: 'old',
      startedAt: 1,
    }),
  );
  await lease.put(keys.port('h1', 'tap0')).value(
    encodePort({
      host: 'h1',
      port: 'tap0',
      mode: 'access',
      bindings: [{ vni: 100, vlan: null }],
      state: 'up',
      macCount: 1,
    }),
  );
  await lease
    .put(OLD_REPORT)
    .value(encodeReport({ vni: 100, mac: MAC, host: 'h1', port: 'tap0', seq: 3, ips: [], seenAt: 1 }));
  await client
    .put(LEASELESS_REPORT)
    .value(encodeReport({ vni: 100, mac: '02:00:00:00:81:02', host: 'h1', port: 'tap0', seq: 0, ips: [], seenAt: 1 }));
  await client.put(keys.fdb(100, MAC)).value(
    encodeFdbEntry({
      vni: 100,
      mac: MAC,
      host: 'h1',
      vtep: { address: '192.0.2.1', port: 4789 },
      seq: 3,
      ips: [],
      origin: 'report',
      moves: 0,
      duplicate: false,
      reason: '',
      updatedAt: 1,
    }),
  );
});

after(async () => {
  await lease?.revoke().catch(() => undefined);
  client?.close();
  await etcd?.stop();
});

test('dvs-controller refuses a layout-1 keyspace, names the command, and changes nothing', async () => {
  const before = await snapshot();
  const r = await ControllerProcess.run(['--etcd', etcd.endpoint, '--listen', '127.0.0.1:0', '--insecure-local']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /key layout 1 .*reports\/<vni>\/<mac>\/<host>/);
  assert.match(r.stderr, /dvs-controller --migrate-keyspace --prefix \/dvs\/v1\//);
  assert.deepEqual(await snapshot(), before, 'the keyspace is byte for byte what it was');
});

test('the conversion refuses while a controller runs, then moves every report once', async () => {
  const campaign = `${keys.election()}694d7f`;
  await lease.put(campaign).value('old-controller');
  const busy = await ControllerProcess.run(['--etcd', etcd.endpoint, '--migrate-keyspace']);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, /stop every controller/);
  await client.delete().key(campaign).exec();

  const before = await snapshot();
  const r = await ControllerProcess.run(['--etcd', etcd.endpoint, '--migrate-keyspace']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted to key layout 2: 1 MAC reports moved .*, 0 gone .*, 1 on no lease deleted/);
  const after = await snapshot();
  const moved = after.get(keys.report('h1', 100, MAC));
  assert.deepEqual(moved, before.get(OLD_REPORT), 'same value, same lease');
  assert.equal(moved?.lease, leaseId);
  assert.equal(after.has(OLD_REPORT), false);
  assert.equal(after.has(LEASELESS_REPORT), false);
  const layout = decodeKeyspaceLayout(Buffer.from(after.get(keys.layout)!.value, 'hex'));
  assert.ok(!isRecordError(layout));
  assert.equal(layout.layout, 2);
  for (const key of [keys.network(100), keys.host('h1'), keys.port('h1', 'tap0'), keys.fdb(100, MAC)])
    assert.deepEqual(after.get(key), before.get(key), `${key} untouched`);

  const again = await ControllerProcess.run(['--etcd', etcd.endpoint, '--migrate-keyspace']);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already has key layout 2: nothing to convert/);
});

test('the controller starts on the converted keyspace and keeps the FDB; an old agent is named', async () => {
  let controller: Controller | null = null;
  try {
    controller = await startController(etcd.endpoint, 'ctl-migrated');
    await waitFor('leadership', () => (controller!.isLeader ? true : undefined));
    await controller.reconcileNow();
    const fdb = await api<{ entries: { host: string; seq: number }[] }>(controller, 'GET', `/v1/fdb?mac=${MAC}`);
    assert.deepEqual(
      fdb.body.entries.map((e) => [e.host, e.seq]),
      [['h1', 3]],
      'the moved report is accepted (its lease is the host record’s)',
    );
    assert.deepEqual(controller.ignoredRecords(), []);
    // An agent not upgraded yet writes a layout-1 key: ignored, counted, named.
    await lease
      .put(`${keys.section('report')}100/02:00:00:00:81:03/h1`)
      .value(
        encodeReport({ vni: 100, mac: '02:00:00:00:81:03', host: 'h1', port: 'tap0', seq: 0, ips: [], seenAt: 1 }),
      );
    const problem = await waitFor('old agent named', async () => {
      const status = await api<{ problems: Problem[] }>(controller!, 'GET', '/v1/status');
      return status.body.problems.find((p) => p.reason === 'old-layout');
    });
    assert.equal(problem.host, 'h1');
    assert.match(problem.message, /upgrade that agent/);
    assert.match(
      (await api<string>(controller, 'GET', '/metrics')).body,
      /records_ignored_total\{kind="report",reason="old-layout"\} 1/,
    );
  } finally {
    await controller?.stop();
  }
});

test('a keyspace of a newer layout is refused; a fresh one is recorded as layout 2', async () => {
  const future = new KeyLayout('/dvs-future/');
  await client.put(future.layout).value(encodeKeyspaceLayout({ layout: 3, writtenBy: 'dvs 9', writtenAt: 1 }));
  const r = await ControllerProcess.run([
    '--etcd',
    etcd.endpoint,
    '--prefix',
    future.prefix,
    '--listen',
    '127.0.0.1:0',
    '--insecure-local',
  ]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /key layout 3 \(written by dvs 9\); this dvs-controller knows layout 2: run the newer dvs-controller/,
  );

  const fresh = new KeyLayout('/dvs-fresh/');
  const controller = await startController(etcd.endpoint, 'ctl-fresh', { prefix: fresh.prefix });
  try {
    const buf = await client.get(fresh.layout).buffer();
    const record = buf === null ? null : decodeKeyspaceLayout(buf);
    assert.ok(record !== null && !isRecordError(record));
    assert.equal(record.layout, 2);
    assert.equal(record.writtenBy, 'dvs-controller ctl-fresh');
  } finally {
    await controller.stop();
  }
});
