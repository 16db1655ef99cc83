// Port mirrors and port QoS through the controller API, against a real etcd:
// created, listed, deleted; every bad input names its field and writes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Controller } from '../src/index.js';
import { EtcdServer } from '@dvs/etcd/testing';
import { api, startController } from './support/controller-harness.js';
import { waitFor } from '@dvs/test-support';

interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

let etcd: EtcdServer;
let controller: Controller;

before(async () => {
  etcd = await EtcdServer.start();
  controller = await startController(etcd.endpoint, 'ctl-mirrors');
  await waitFor('leadership', () => (controller.isLeader ? true : undefined));
  await api(controller, 'POST', '/v1/networks', { vni: 100, name: 'blue' });
});

after(async () => {
  await controller?.stop();
  await etcd?.stop();
});

const rspan = {
  name: 'watch-vm1',
  sourcePorts: [{ host: 'host-a', port: 'tap-vm1' }],
  output: { host: 'host-b', port: 'tap-analyser' },
  vni: 9999,
};

test('mirrors: create, list, get, delete; a network cannot take a mirror VNI', async () => {
  const created = await api<{ mirror: Record<string, unknown> }>(controller, 'POST', '/v1/mirrors', rspan);
  assert.equal(created.status, 201);
  assert.equal(created.body.mirror.direction, 'both');
  assert.equal(created.body.mirror.sampleEvery, 1);
  const list = await api<{ mirrors: { name: string }[] }>(controller, 'GET', '/v1/mirrors');
  assert.deepEqual(
    list.body.mirrors.map((m) => m.name),
    ['watch-vm1'],
  );
  const net = await api<ErrorBody>(controller, 'POST', '/v1/networks', { vni: 9999, name: 'taken' });
  assert.equal(net.status, 400);
  assert.equal(net.body.error.field, 'vni');
  assert.equal((await api(controller, 'GET', '/v1/networks/9999')).status, 404, 'no network written');
  assert.deepEqual((await api(controller, 'DELETE', '/v1/mirrors/watch-vm1')).body, { deleted: { name: 'watch-vm1' } });
  assert.equal((await api(controller, 'GET', '/v1/mirrors/watch-vm1')).status, 404);
});

test('mirrors: bad input names the field and writes nothing', async () => {
  await api(controller, 'POST', '/v1/mirrors', rspan);
  const cases: [unknown, number, string, string][] = [
    [{ ...rspan, name: 'b1', vni: 9998, sampleEvery: 0 }, 400, 'DVS_FIELD_INVALID', 'sampleEvery'],
    [{ ...rspan, name: 'b2', vni: 9998, output: rspan.sourcePorts[0] }, 400, 'DVS_FIELD_INVALID', 'output'],
    [{ ...rspan, name: 'b3', vni: 100 }, 400, 'DVS_FIELD_INVALID', 'vni'],
    [{ ...rspan, name: 'b4' }, 400, 'DVS_FIELD_INVALID', 'vni'],
    [{ ...rspan, name: 'b5', vni: undefined }, 400, 'DVS_FIELD_MISSING', 'vni'],
    [{ ...rspan, name: 'b6', vni: 9998, sourcePorts: [], sourceVnis: [] }, 400, 'DVS_FIELD_INVALID', 'sources'],
    [{ ...rspan, vni: 9998 }, 409, 'DVS_CONFLICT', 'name'],
    [{ ...rspan, name: 'b7', vni: 9998, colour: 'red' }, 400, 'DVS_FIELD_UNKNOWN', 'colour'],
    [{ ...rspan, name: 'b8', vni: 9998, direction: 'sideways' }, 400, 'DVS_FIELD_INVALID', 'direction'],
  ];
  for (const [body, status, code, field] of cases) {
    const r = await api<ErrorBody>(controller, 'POST', '/v1/mirrors', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
  }
  const list = await api<{ mirrors: { name: string }[] }>(controller, 'GET', '/v1/mirrors');
  assert.deepEqual(
    list.body.mirrors.map((m) => m.name),
    ['watch-vm1'],
    'nothing else written',
  );
});

test('port QoS: set, list, clear; a rate of 0 or a burst below one frame names the field and writes nothing', async () => {
  const path = '/v1/ports/host-a/tap-vm1/qos';
  const set = await api<{ qos: Record<string, unknown> }>(controller, 'PUT', path, { ingress: { rateKbps: 20000 } });
  assert.equal(set.status, 200);
  assert.deepEqual(set.body.qos.ingress, { rateKbps: 20000, burstKb: 2000 });
  assert.equal(set.body.qos.egress, null);
  for (const [body, field] of [
    [{ ingress: { rateKbps: 0 } }, 'ingress.rateKbps'],
    [{ egress: { rateKbps: 1000, burstKb: 8 } }, 'egress.burstKb'],
    [{}, 'ingress'],
  ] as const) {
    const r = await api<ErrorBody>(controller, 'PUT', path, body);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, field);
  }
  const list = await api<{ ports: { ingress: unknown }[] }>(controller, 'GET', '/v1/qos');
  assert.deepEqual(list.body.ports[0]!.ingress, { rateKbps: 20000, burstKb: 2000 }, 'the earlier setting stands');
  assert.equal((await api(controller, 'DELETE', path)).status, 200);
  assert.equal((await api(controller, 'DELETE', path)).status, 404);
  assert.deepEqual((await api<{ ports: unknown[] }>(controller, 'GET', '/v1/qos')).body.ports, []);
});
