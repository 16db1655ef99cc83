// The cluster's sFlow and IPFIX settings through the controller API, against
// a real etcd: set with defaults filled in, read back, written as the wire
// record agents decode, cleared; every bad input names its field and writes
// nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { KeyLayout, decodeIpfixRecord, decodeSflowRecord, isRecordError } from '@dvs/wire';
import type { Controller } from '../src/index.js';
import { EtcdServer } from '@dvs/etcd/testing';
import { api, startController } from './support/controller-harness.js';
import { waitFor } from '@dvs/test-support';

interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

let etcd: EtcdServer;
let controller: Controller;
let client: Etcd3;
const keys = new KeyLayout();

before(async () => {
  etcd = await EtcdServer.start();
  controller = await startController(etcd.endpoint, 'ctl-flow-export');
  client = new Etcd3({ hosts: etcd.endpoint });
  await waitFor('leadership', () => (controller.isLeader ? true : undefined));
});

after(async () => {
  client?.close();
  await controller?.stop();
  await etcd?.stop();
});

test('sflow: set (defaults filled in), read back, the record agents decode, cleared', async () => {
  assert.deepEqual((await api(controller, 'GET', '/v1/sflow')).body, { sflow: null });
  const set = await api<{ sflow: Record<string, unknown> }>(controller, 'PUT', '/v1/sflow', {
    collectors: ['127.0.0.1', '[::1]:9999'],
    sampling: 512,
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.sflow.collectors, [
    { host: '127.0.0.1', port: 6343 },
    { host: '::1', port: 9999 },
  ]);
  assert.equal(set.body.sflow.sampling, 512);
  assert.equal(set.body.sflow.pollingS, 20, 'default polling');
  assert.equal(set.body.sflow.headerBytes, 128, 'default header');
  const got = await api<{ sflow: Record<string, unknown> }>(controller, 'GET', '/v1/sflow');
  assert.deepEqual(got.body.sflow, set.body.sflow);
  const stored = await client.get(keys.flowExport('sflow')).buffer();
  assert.ok(stored);
  const record = decodeSflowRecord(stored);
  assert.ok(!isRecordError(record), String(record));
  assert.equal(record.sampling, 512);
  assert.deepEqual((await api(controller, 'DELETE', '/v1/sflow')).body, { deleted: { exporter: 'sflow' } });
  assert.equal(await client.get(keys.flowExport('sflow')).buffer(), null);
  const again = await api<ErrorBody>(controller, 'DELETE', '/v1/sflow');
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, 'DVS_NOT_FOUND');
});

test('ipfix: no collector keeps the flow cache only; timeouts as given', async () => {
  const set = await api<{ ipfix: Record<string, unknown> }>(controller, 'PUT', '/v1/ipfix', {
    idleTimeoutS: 5,
    activeTimeoutS: 30,
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.ipfix.collectors, []);
  assert.equal(set.body.ipfix.idleTimeoutS, 5);
  assert.equal(set.body.ipfix.cacheSize, 65536);
  const stored = decodeIpfixRecord((await client.get(keys.flowExport('ipfix')).buffer())!);
  assert.ok(!isRecordError(stored));
  assert.equal(stored.activeTimeoutS, 30);
  assert.equal((await api(controller, 'DELETE', '/v1/ipfix')).status, 200);
});

test('bad input names the field and writes nothing', async () => {
  const good = { collectors: ['127.0.0.1:6343'], sampling: 100 };
  assert.equal((await api(controller, 'PUT', '/v1/sflow', good)).status, 200);
  const before = await client.get(keys.flowExport('sflow')).buffer();
  const cases: [string, unknown, string, string][] = [
    ['/v1/sflow', { ...good, sampling: 0 }, 'DVS_FIELD_INVALID', 'sampling'],
    ['/v1/sflow', { ...good, headerBytes: 9 }, 'DVS_FIELD_INVALID', 'headerBytes'],
    ['/v1/sflow', { sampling: 10 }, 'DVS_FIELD_INVALID', 'collectors'],
    ['/v1/sflow', { ...good, collectors: ['collector.invalid'] }, 'DVS_COLLECTOR_UNRESOLVED', 'collectors[0]'],
    ['/v1/sflow', { ...good, collectors: ['127.0.0.1', 'a b'] }, 'DVS_FIELD_INVALID', 'collectors[1]'],
    ['/v1/sflow', { ...good, collectors: ['127.0.0.1:0'] }, 'DVS_FIELD_INVALID', 'collectors[0]'],
    ['/v1/sflow', { ...good, collectors: '127.0.0.1' }, 'DVS_FIELD_INVALID', 'collectors'],
    ['/v1/sflow', { ...good, idleTimeoutS: 3 }, 'DVS_FIELD_UNKNOWN', 'idleTimeoutS'],
    ['/v1/ipfix', { idleTimeoutS: 0 }, 'DVS_FIELD_INVALID', 'idleTimeoutS'],
    ['/v1/ipfix', { cacheSize: 1 }, 'DVS_FIELD_INVALID', 'cacheSize'],
  ];
  for (const [path, body, code, field] of cases) {
    const r = await api<ErrorBody>(controller, 'PUT', path, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
    assert.match(r.body.error.message, new RegExp(field.replace(/[[\]]/g, '\\$&')));
  }
  assert.deepEqual(await client.get(keys.flowExport('sflow')).buffer(), before, 'the sFlow setting is unchanged');
  assert.equal(await client.get(keys.flowExport('ipfix')).buffer(), null, 'no IPFIX setting written');
});
