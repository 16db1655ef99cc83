/**
 * The real `dvs` binary against a real dvs-controller over a real etcd (both
 * on loopback, no namespaces needed): networks with external VTEPs, static
 * FDB entries, status/hosts/tunnels views, error mapping (controller 409 →
 * exit 1, 400 → exit 2, CLI validation → exit 2, controller gone → exit 1),
 * in both text and JSON forms.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdServer } from '@dvs/etcd/testing';
import { waitFor } from '@dvs/test-support';
import type { RunResult } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import { startController, type ControllerProcess } from '../support/controller-process.js';

let etcd: EtcdServer;
let controller: ControllerProcess | undefined;
let controllerUrl = '';

function dvs(...args: string[]): Promise<RunResult> {
  return runDvs(args, { DVS_CONTROLLER: controllerUrl });
}

async function dvsJson<T>(...args: string[]): Promise<T> {
  const r = await dvs(...args, '--json');
  assert.ok(r.code === 0 || r.code === 1, `dvs ${args.join(' ')} --json: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

before(async () => {
  etcd = await EtcdServer.start();
  controller = await startController([
    ...['--etcd', etcd.endpoint, '--listen', '127.0.0.1:0', '--id', 'ctl-cli', '--insecure-local'],
  ]);
  controllerUrl = controller.url;
  assert.match(controllerUrl, /^http:\/\//, 'a plain API (--insecure-local)');
  await waitFor('the controller to be leader', async () => {
    const s = await dvsJson<{ controller: { leader: boolean } }>('status');
    return s.controller.leader;
  });
});

after(async () => {
  await controller?.stop();
  await etcd?.stop();
});

test('an empty cluster: status has no problems (exit 0), hosts and tunnels are empty', async () => {
  const status = await dvs('status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^controller ctl-cli \(leader\), etcd up$/m);
  assert.match(status.stdout, /^no problems$/m);
  const json = await dvsJson<{ problems: unknown[]; hosts: { up: number } }>('status');
  assert.deepEqual(json.problems, []);
  assert.equal(json.hosts.up, 0);
  const hosts = await dvs('hosts');
  assert.equal(hosts.code, 0);
  assert.match(hosts.stdout, /no hosts registered/);
  assert.deepEqual(await dvsJson('tunnels'), { tunnels: [] });
});

test('networks: create with external VTEPs, list and show in text and JSON, update, duplicate refused', async () => {
  const created = await dvs('networks', 'create', '--vni', '100', '--name', 'blue', '--external-vtep', '203.0.113.9');
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'created network 100 (blue), vxlan, mtu 1450\n');
  const gre = await dvs(
    'networks',
    'create',
    '--vni',
    '200',
    '--name',
    'red',
    '--encap',
    'gre-udp',
    '--mtu',
    '1400',
    '--datapath',
    'userspace',
    '--json',
  );
  assert.equal(gre.code, 0, gre.stderr);
  const red = (JSON.parse(gre.stdout) as { network: { vni: number; name: string; encap: string; mtu: number } })
    .network;
  assert.deepEqual([red.vni, red.name, red.encap, red.mtu], [200, 'red', 'gre-udp', 1400]);

  const list = await waitFor('both networks listed', async () => {
    const r = await dvs('networks', 'list');
    return r.stdout.split('\n').length >= 3 ? r : undefined;
  });
  assert.match(
    list.stdout,
    /^VNI\s+NAME\s+ENCAP\s+MTU\s+FLOOD\s+ARP-SUPPRESS\s+DATAPATH\s+FLOW-EXPORT\s+EXTERNAL VTEPS\s+MEMBERS$/m,
  );
  assert.match(
    list.stdout,
    /^100\s+blue\s+vxlan\s+1450\s+head-end\s+no\s+auto\s+sflow,ipfix\s+203\.0\.113\.9:4789\s+any host$/m,
  );
  assert.match(list.stdout, /^200\s+red\s+gre-udp\s+1400\s+head-end\s+no\s+userspace\s+sflow,ipfix\s+-\s+any host$/m);

  const show = await dvsJson<{ network: { name: string; externalVteps: { address: string; port: number }[] } }>(
    'networks',
    'show',
    '100',
  );
  assert.equal(show.network.name, 'blue');
  assert.deepEqual(
    show.network.externalVteps.map((v) => [v.address, v.port]),
    [['203.0.113.9', 4789]],
  );

  const dup = await dvs('networks', 'create', '--vni', '100', '--name', 'again');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^dvs: .*100.*\n$/);
  const badName = await dvs('networks', 'create', '--vni', '300', '--name', 'no spaces');
  assert.equal(badName.code, 2, 'the controller rejects the field: a usage error');
  assert.match(badName.stderr, /^dvs: .*name/);

  const updated = await dvs('networks', 'update', '100', '--mtu', '1400', '--add-external-vtep', '203.0.113.10:4789');
  assert.equal(updated.code, 0, updated.stderr);
  assert.match(
    updated.stdout,
    /^updated network 100 \(blue\): vxlan, mtu 1400, external VTEPs: 203\.0\.113\.9:4789, 203\.0\.113\.10:4789$/m,
  );
  const removed = await dvs('networks', 'update', '100', '--remove-external-vtep', '203.0.113.9');
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /external VTEPs: 203\.0\.113\.10:4789$/m);

  // Membership through the real controller: restricted, shown, lifted again.
  const restricted = await dvs(
    'networks',
    'update',
    '200',
    '--allowed-hosts',
    'host-a,host-b',
    '--allowed-labels',
    'zone=pci',
  );
  assert.equal(restricted.code, 0, restricted.stderr);
  assert.match((await dvs('networks', 'show', '200')).stdout, /^members:\s+host-a,host-b,label zone=pci$/m);
  const badLabel = await dvs('networks', 'update', '200', '--allowed-labels', 'zone');
  assert.equal(badLabel.code, 2);
  assert.equal((await dvs('networks', 'update', '200', '--allowed-hosts', '', '--allowed-labels', '')).code, 0);
  assert.match((await dvs('networks', 'show', '200')).stdout, /^members:\s+any host$/m);
});

test('static FDB entries: add, find by --mac in text and JSON, delete; a missing MAC is exit 1', async () => {
  const add = await dvs('fdb', 'add', '--vni', '100', '--mac', '02-00-00-00-AA-01', '--vtep', '203.0.113.10');
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, 'static entry: vni 100 02:00:00:00:aa:01 → 203.0.113.10:4789\n');
  const found = await waitFor('the static entry in the FDB', async () => {
    const r = await dvs('fdb', '--mac', '02:00:00:00:aa:01');
    return r.code === 0 ? r : undefined;
  });
  assert.match(
    found.stdout,
    /^100\s+02:00:00:00:aa:01\s+\(external\)\s+203\.0\.113\.10:4789\s+\d+\s+\S+\s+0\s+static\s+-$/m,
  );
  const json = await dvsJson<{ entries: { mac: string; host: string | null; origin: string; vtep: unknown }[] }>(
    'fdb',
    '--vni',
    '100',
  );
  assert.deepEqual(
    json.entries.map((e) => [e.mac, e.host, e.origin, e.vtep]),
    [['02:00:00:00:aa:01', null, 'static', { address: '203.0.113.10', port: 4789 }]],
  );

  const del = await dvs('fdb', 'del', '--vni', '100', '--mac', '02:00:00:00:aa:01');
  assert.equal(del.code, 0, del.stderr);
  const gone = await waitFor('the entry to be gone', async () => {
    const r = await dvs('fdb', '--mac', '02:00:00:00:aa:01');
    return r.code === 1 ? r : undefined;
  });
  assert.match(gone.stdout, /MAC 02:00:00:00:aa:01 is not in the FDB/);
  const again = await dvs('fdb', 'del', '--vni', '100', '--mac', '02:00:00:00:aa:01');
  assert.equal(again.code, 1, 'deleting what is not there is a problem, not a usage error');
});

test("trace asks a host's data path, never the controller's tables: with no agent it says so (exit 1)", async () => {
  const socket = '/nonexistent/dvs-e2e/agent.sock';
  const r = await dvs(
    'trace',
    '--vni',
    '100',
    '--src',
    '02:00:00:00:00:01',
    '--dst',
    '02:00:00:00:00:02',
    '--socket',
    socket,
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^dvs: agent admin socket not reachable at \/nonexistent\/dvs-e2e\/agent\.sock \(ENOENT\)/);
  assert.equal(r.stdout, '');
});

test('delete networks; then a stopped controller is "not reachable" (exit 1), never a stack trace', async () => {
  for (const vni of ['100', '200']) {
    const r = await dvs('networks', 'delete', vni, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { deleted: { vni: Number(vni) } });
  }
  await waitFor(
    'no networks listed',
    async () => (await dvsJson<{ networks: unknown[] }>('networks')).networks.length === 0,
  );
  await controller!.stop();
  const r = await dvs('status');
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `dvs: controller not reachable at ${controllerUrl} (ECONNREFUSED): is dvs-controller running? set --controller, DVS_CONTROLLER or a context (dvs config)\n`,
  );
});
