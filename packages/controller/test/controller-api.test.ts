import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Controller } from '../src/index.js';
import { EtcdServer } from '@dvs/etcd/testing';
import { api, startController } from './support/controller-harness.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from '@dvs/test-support';

interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

let etcd: EtcdServer;
let controller: Controller;

before(async () => {
  etcd = await EtcdServer.start();
  controller = await startController(etcd.endpoint, 'ctl-api');
  await waitFor('leadership', () => (controller.isLeader ? true : undefined));
});

after(async () => {
  await controller?.stop();
  await etcd?.stop();
});

test('networks: create with defaults, get, list, update, delete', async () => {
  const created = await api<{ network: Record<string, unknown> }>(controller, 'POST', '/v1/networks', {
    vni: 100,
    name: 'blue',
  });
  assert.equal(created.status, 201);
  assert.deepEqual(
    { ...created.body.network, createdAt: 0, updatedAt: 0 },
    {
      vni: 100,
      name: 'blue',
      encap: 'vxlan',
      mtu: 1450,
      floodMode: 'head-end',
      arpSuppression: false,
      externalVteps: [],
      description: '',
      createdAt: 0,
      updatedAt: 0,
    },
  );
  await api(controller, 'POST', '/v1/networks', { vni: 200, name: 'red', encap: 'gre-udp', mtu: 1400 });
  const list = await api<{ networks: { vni: number }[] }>(controller, 'GET', '/v1/networks');
  assert.deepEqual(
    list.body.networks.map((n) => n.vni),
    [100, 200],
  );
  const patched = await api<{ network: { mtu: number; name: string } }>(controller, 'PATCH', '/v1/networks/200', {
    mtu: 1300,
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.network.mtu, 1300);
  assert.equal(patched.body.network.name, 'red');
  const got = await api<{ network: { mtu: number } }>(controller, 'GET', '/v1/networks/200');
  assert.equal(got.body.network.mtu, 1300);
  const deleted = await api(controller, 'DELETE', '/v1/networks/200');
  assert.deepEqual(deleted.body, { deleted: { vni: 200 } });
  assert.equal((await api(controller, 'GET', '/v1/networks/200')).status, 404);
});

test('networks: clear errors for duplicate VNI, bad range, unknown encap, bad JSON, unknown field', async () => {
  const cases: [unknown, number, string, string | null][] = [
    [{ vni: 100, name: 'again' }, 409, 'DVS_NETWORK_EXISTS', 'vni'],
    [{ vni: 0, name: 'zero' }, 400, 'DVS_VNI_OUT_OF_RANGE', 'vni'],
    [{ vni: 16777216, name: 'big' }, 400, 'DVS_VNI_OUT_OF_RANGE', 'vni'],
    [{ vni: 300, name: 'g', encap: 'geneve' }, 400, 'DVS_ENCAP_UNKNOWN', 'encap'],
    [{ vni: 300, name: 'blue' }, 409, 'DVS_NETWORK_NAME_TAKEN', 'name'],
    [{ vni: 300 }, 400, 'DVS_FIELD_MISSING', 'name'],
    [{ vni: 300, name: 'x', mtu: 100 }, 400, 'DVS_FIELD_INVALID', 'mtu'],
    [{ vni: 300, name: 'x', colour: 'red' }, 400, 'DVS_FIELD_UNKNOWN', 'colour'],
    [
      { vni: 300, name: 'x', externalVteps: [{ address: 'nope' }] },
      400,
      'DVS_FIELD_INVALID',
      'externalVteps.0.address',
    ],
    [{ vni: 300, name: 'x', allowedHosts: 'h1' }, 400, 'DVS_FIELD_INVALID', 'allowedHosts'],
    [{ vni: 300, name: 'x', allowedHosts: ['h1', 'a/b'] }, 400, 'DVS_FIELD_INVALID', 'allowedHosts.1'],
    [{ vni: 300, name: 'x', allowedLabels: ['zone'] }, 400, 'DVS_FIELD_INVALID', 'allowedLabels.0'],
    [{ vni: 300, name: 'x', datapath: 'fast' }, 400, 'DVS_FIELD_INVALID', 'datapath'],
    [{ vni: 300, name: 'x', encap: 'gre-udp', datapath: 'kernel' }, 400, 'DVS_FIELD_INVALID', 'datapath'],
    [{ vni: 300, name: 'x', flowExport: 'off' }, 400, 'DVS_FIELD_INVALID', 'flowExport'],
    [{ vni: 300, name: 'x', flowExport: { sflow: 'off' } }, 400, 'DVS_FIELD_INVALID', 'flowExport.sflow'],
    [{ vni: 300, name: 'x', flowExport: { netflow: false } }, 400, 'DVS_FIELD_UNKNOWN', 'flowExport.netflow'],
    ['{not json', 400, 'DVS_INVALID_JSON', null],
  ];
  for (const [body, status, code, field] of cases) {
    const res = await api<ErrorBody>(controller, 'POST', '/v1/networks', body);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(res.body.error.code, code, JSON.stringify(body));
    assert.equal(res.body.error.field, field, JSON.stringify(body));
    assert.ok(res.body.error.message.length > 10);
  }
  const patchVni = await api<ErrorBody>(controller, 'PATCH', '/v1/networks/100', { vni: 101 });
  assert.equal(patchVni.body.error.code, 'DVS_FIELD_INVALID');
  // ARP suppression takes a boolean; anything else names the field and changes nothing.
  const before = await api<{ network: { arpSuppression: boolean; updatedAt: number } }>(
    controller,
    'GET',
    '/v1/networks/100',
  );
  const patchArp = await api<ErrorBody>(controller, 'PATCH', '/v1/networks/100', { arpSuppression: 'on' });
  assert.equal(patchArp.status, 400);
  assert.equal(patchArp.body.error.code, 'DVS_FIELD_INVALID');
  assert.equal(patchArp.body.error.field, 'arpSuppression');
  const unchanged = await api<{ network: { arpSuppression: boolean; updatedAt: number } }>(
    controller,
    'GET',
    '/v1/networks/100',
  );
  assert.deepEqual(unchanged.body.network, before.body.network, 'nothing changed');
  const wrongMethod = await api<ErrorBody>(controller, 'DELETE', '/v1/networks');
  assert.equal(wrongMethod.status, 405);
  const nowhere = await api<ErrorBody>(controller, 'GET', '/v1/nowhere');
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.body.error.code, 'DVS_NOT_FOUND');
});

test('networks: membership restricted to hosts and labels, and opened again with empty lists', async () => {
  const created = await api<{ network: Record<string, unknown> }>(controller, 'POST', '/v1/networks', {
    vni: 700,
    name: 'pci',
    allowedHosts: ['h1', 'h2', 'h1'],
    allowedLabels: ['zone=pci'],
  });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.network.allowedHosts, ['h1', 'h2'], 'repeats dropped');
  assert.deepEqual(created.body.network.allowedLabels, ['zone=pci']);
  const onlyHosts = await api<{ network: Record<string, unknown> }>(controller, 'PATCH', '/v1/networks/700', {
    allowedLabels: [],
  });
  assert.deepEqual(onlyHosts.body.network.allowedHosts, ['h1', 'h2'], 'a field not given stays');
  assert.equal(onlyHosts.body.network.allowedLabels, undefined, '[] lifts the restriction');
  const open = await api<{ network: Record<string, unknown> }>(controller, 'PATCH', '/v1/networks/700', {
    allowedHosts: [],
  });
  assert.equal(open.body.network.allowedHosts, undefined);
  assert.equal((await api(controller, 'DELETE', '/v1/networks/700')).status, 200);
});

test('external VTEPs join the flood list; static FDB entries stay put over reports', async () => {
  const agent = new FakeAgent(etcd.endpoint, 'host-a', '192.0.2.1');
  try {
    await agent.register([{ port: 'tap0', vni: 100 }]);
    const added = await api<{ network: { externalVteps: unknown[] } }>(
      controller,
      'POST',
      '/v1/networks/100/external-vteps',
      {
        address: '203.0.113.9',
        description: 'kernel vxlan',
      },
    );
    assert.equal(added.status, 201);
    assert.deepEqual(added.body.network.externalVteps, [
      { address: '203.0.113.9', port: 4789, description: 'kernel vxlan' },
    ]);
    const again = await api<ErrorBody>(controller, 'POST', '/v1/networks/100/external-vteps', {
      address: '203.0.113.9',
    });
    assert.equal(again.body.error.code, 'DVS_EXTERNAL_VTEP_EXISTS');

    const flood = await waitFor('flood list with host and external VTEP', async () => {
      const res = await api<{ floodLists: { members: { address: string; host: string | null }[] }[] }>(
        controller,
        'GET',
        '/v1/flood?vni=100',
      );
      const members = res.body.floodLists[0]?.members ?? [];
      return members.length === 2 ? members : undefined;
    });
    assert.deepEqual(
      flood.map((m) => [m.address, m.host]),
      [
        ['192.0.2.1', 'host-a'],
        ['203.0.113.9', null],
      ],
    );

    const set = await api<{ entry: { origin: string; vtep: { port: number } } }>(controller, 'POST', '/v1/fdb', {
      vni: 100,
      mac: '02-00-00-00-0E-01',
      address: '203.0.113.9',
    });
    assert.equal(set.status, 201);
    assert.equal(set.body.entry.origin, 'static');
    // A report for the same MAC (seq 1: the static entry's + 1, as an agent reports it) does not override it.
    await agent.report(100, '02:00:00:00:0e:01', 1);
    await agent.report(100, '02:00:00:00:00:aa', 0);
    await waitFor('learned entry', async () => {
      const res = await api<{ entries: unknown[] }>(controller, 'GET', '/v1/fdb?mac=02:00:00:00:00:aa');
      return res.body.entries.length === 1 ? true : undefined;
    });
    const pinned = await api<{ entries: { origin: string; host: string | null }[] }>(
      controller,
      'GET',
      '/v1/fdb?vni=100&mac=02:00:00:00:0e:01',
    );
    assert.deepEqual(
      pinned.body.entries.map((e) => [e.origin, e.host]),
      [['static', null]],
    );

    const notStatic = await api<ErrorBody>(controller, 'DELETE', '/v1/fdb/100/02:00:00:00:00:aa');
    assert.equal(notStatic.body.error.code, 'DVS_FDB_NOT_STATIC');
    const removed = await api(controller, 'DELETE', '/v1/fdb/100/02:00:00:00:0e:01');
    assert.equal(removed.status, 200);
    await waitFor('learned entry replaces the removed static one', async () => {
      const res = await api<{ entries: { origin: string }[] }>(controller, 'GET', '/v1/fdb?mac=02:00:00:00:0e:01');
      return res.body.entries[0]?.origin === 'report' ? true : undefined;
    });
    const badMac = await api<ErrorBody>(controller, 'POST', '/v1/fdb', { vni: 100, mac: 'zz', address: '203.0.113.9' });
    assert.equal(badMac.body.error.code, 'DVS_MAC_INVALID');
    const noNet = await api<ErrorBody>(controller, 'POST', '/v1/fdb', {
      vni: 4242,
      mac: '02:00:00:00:00:01',
      address: '203.0.113.9',
    });
    assert.equal(noNet.status, 404);
    const del = await api(controller, 'DELETE', '/v1/networks/100/external-vteps/203.0.113.9');
    assert.equal(del.status, 200);
  } finally {
    await agent.close();
  }
});

test('hosts, status, healthz and metrics views', async () => {
  const agent = new FakeAgent(etcd.endpoint, 'host-v', '192.0.2.7');
  try {
    await agent.register([{ port: 'tap9', vni: 100 }]);
    await agent.report(100, '02:00:00:00:07:01', 0, 'tap9');
    const host = await waitFor('host view', async () => {
      const res = await api<{ host: { state: string; ports: { port: string }[]; macs: number } }>(
        controller,
        'GET',
        '/v1/hosts/host-v',
      );
      return res.status === 200 && res.body.host.macs === 1 ? res.body.host : undefined;
    });
    assert.equal(host.state, 'up');
    assert.deepEqual(
      host.ports.map((p) => p.port),
      ['tap9'],
    );
    const status = await api<{ controller: { leader: boolean; leaderId: string }; hosts: { up: number } }>(
      controller,
      'GET',
      '/v1/status',
    );
    assert.equal(status.body.controller.leader, true);
    assert.equal(status.body.controller.leaderId, 'ctl-api');
    assert.ok(status.body.hosts.up >= 1);
    await waitFor('fdb entry of host-v', async () => {
      const res = await api<{ entries: unknown[] }>(controller, 'GET', '/v1/fdb?host=host-v');
      return res.body.entries.length === 1 ? true : undefined;
    });
    const health = await api<{ status: string; leader: boolean }>(controller, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const metrics = await api<string>(controller, 'GET', '/metrics');
    assert.match(metrics.body, /^dvs_controller_leader 1$/m);
    assert.match(metrics.body, /^dvs_controller_fdb_entries\{vni="100"\} \d+$/m);
    assert.match(metrics.body, /dvs_controller_http_requests_total\{route="\/v1\/hosts\/:host",status="200"\} \d+/);
  } finally {
    await agent.close();
  }
});

test('networks: datapath is kept, changed by PATCH, absent means auto; kernel for GRE-in-UDP is refused, nothing changed', async () => {
  const created = await api<{ network: Record<string, unknown> }>(controller, 'POST', '/v1/networks', {
    vni: 800,
    name: 'fast',
    datapath: 'kernel',
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.network.datapath, 'kernel');
  const changed = await api<{ network: Record<string, unknown> }>(controller, 'PATCH', '/v1/networks/800', {
    datapath: 'userspace',
  });
  assert.equal(changed.body.network.datapath, 'userspace');
  const toKernel = await api<{ network: Record<string, unknown> }>(controller, 'PATCH', '/v1/networks/800', {
    datapath: 'kernel',
  });
  assert.equal(toKernel.body.network.datapath, 'kernel');
  // The encap may not move a kernel network to GRE-in-UDP: the kernel here has no FOU.
  const gre = await api<ErrorBody>(controller, 'PATCH', '/v1/networks/800', { encap: 'gre-udp' });
  assert.equal(gre.status, 400);
  assert.equal(gre.body.error.field, 'datapath');
  assert.match(gre.body.error.message, /no FOU.*set datapath to auto or userspace/);
  const after = await api<{ network: Record<string, unknown> }>(controller, 'GET', '/v1/networks/800');
  assert.equal(after.body.network.encap, 'vxlan', 'nothing changed');
  const plain = await api<{ network: Record<string, unknown> }>(controller, 'POST', '/v1/networks', {
    vni: 801,
    name: 'plain',
  });
  assert.equal(plain.body.network.datapath, undefined, 'absent: auto');
  for (const vni of [800, 801]) assert.equal((await api(controller, 'DELETE', `/v1/networks/${vni}`)).status, 200);
});

test('networks: flowExport is kept and patched one exporter at a time; both on is stored as absent; a bad one changes nothing', async () => {
  type NetworkBody = { network: Record<string, unknown> };
  const created = await api<NetworkBody>(controller, 'POST', '/v1/networks', {
    vni: 810,
    name: 'quiet',
    flowExport: { sflow: false },
  });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.network.flowExport, { sflow: false, ipfix: true }, 'ipfix left out: on');
  const ipfixOff = await api<NetworkBody>(controller, 'PATCH', '/v1/networks/810', { flowExport: { ipfix: false } });
  assert.deepEqual(ipfixOff.body.network.flowExport, { sflow: false, ipfix: false }, 'sflow left out: kept');
  const bad = await api<ErrorBody>(controller, 'PATCH', '/v1/networks/810', {
    mtu: 1300,
    flowExport: { sflow: true, ipfix: 'yes' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'flowExport.ipfix');
  const after = await api<NetworkBody>(controller, 'GET', '/v1/networks/810');
  assert.deepEqual(after.body.network.flowExport, { sflow: false, ipfix: false }, 'nothing changed');
  assert.equal(after.body.network.mtu, 1450, 'nothing changed');
  const on = await api<NetworkBody>(controller, 'PATCH', '/v1/networks/810', {
    flowExport: { sflow: true, ipfix: true },
  });
  assert.equal(on.body.network.flowExport, undefined, 'both on: absent, as before 1.3');
  const plain = await api<NetworkBody>(controller, 'POST', '/v1/networks', { vni: 811, name: 'loud' });
  assert.equal(plain.body.network.flowExport, undefined, 'absent: exported');
  for (const vni of [810, 811]) assert.equal((await api(controller, 'DELETE', `/v1/networks/${vni}`)).status, 200);
});
