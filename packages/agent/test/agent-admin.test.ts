import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUdpNetwork, type FakeDatagram } from '@dvs/netdev/testing';
import { AdminCallError, AdminClient } from '@dvs/admin-client';
import { Agent, validateConfig, type PortView, type FdbEntryView } from '../src/index.js';
import { FakeKernel } from './fake-devices.js';
import { BROADCAST, frame, mac, settle } from './frames.js';

let dir: string;
let agent: Agent;
let kernel: FakeKernel;
let client: AdminClient;
const datagrams: FakeDatagram[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dva-admin-'));
  const net = new FakeUdpNetwork();
  net.filter = (d) => {
    datagrams.push({ ...d, data: Buffer.from(d.data) });
    return true;
  };
  kernel = new FakeKernel(net);
  kernel.precreate('adopted0');
  const config = validateConfig({
    host: 'host-a',
    vtep: { address: '198.51.100.1' },
    adminSocket: join(dir, 'agent.sock'),
    networks: [
      { vni: 100, mtu: 1400, peers: ['198.51.100.2'] },
      { vni: 200, encap: 'gre-udp', peers: [{ address: '198.51.100.3' }] },
    ],
    ports: [{ name: 'vm1', vni: 100 }],
    stateFile: join(dir, 'agent-state.json'),
  });
  agent = new Agent({ config, devices: kernel, dataPath: { agingTimer: false } });
  await agent.start();
  client = new AdminClient(join(dir, 'agent.sock'));
});

after(async () => {
  client.close();
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

async function fails(command: string, args: string[], code: string): Promise<string> {
  try {
    await client.call(command, args);
  } catch (err) {
    assert.ok(err instanceof AdminCallError);
    assert.equal(err.code, code, err.message);
    return err.message;
  }
  assert.fail(`${command} ${args.join(' ')} succeeded`);
}

test('the admin socket is root-only (0600)', async () => {
  assert.equal((await stat(join(dir, 'agent.sock'))).mode & 0o777, 0o600);
});

test('list-commands lists the registry with usage, text and JSON', async () => {
  const r = await client.call('list-commands');
  const names = (r.data as { name: string }[]).map((c) => c.name);
  for (const n of [
    'list-commands',
    'ports/show',
    'ports/add',
    'ports/del',
    'ports/announce',
    'fdb/show',
    'fdb/flush',
    'peers/show',
    'counters/show',
    'sockets/show',
    'trace',
    'version',
  ]) {
    assert.ok(names.includes(n), n);
  }
  assert.match(r.text, /ports\/add <name> <vni\|trunk:vlan=vni,…> \[create\|adopt\|attach\] \[persistent\]/);
  const v = await client.call('version');
  assert.equal((v.data as { host: string }).host, 'host-a');
});

test('unknown commands and bad arguments answer a clear error and change nothing', async () => {
  const before = JSON.stringify((await client.call('ports/show')).data);
  assert.match(await fails('nope/never', [], 'DVS_UNKNOWN_COMMAND'), /list-commands/);
  assert.match(await fails('ports/add', ['vm2'], 'DVS_BAD_ARGUMENT'), /usage: ports\/add/);
  await fails('ports/add', ['vm2', 'trunk:10=100,10=200'], 'DVS_BAD_ARGUMENT');
  await fails('ports/add', ['vm2', '0'], 'DVS_BAD_ARGUMENT');
  await fails('ports/add', ['vm2', '100', 'borrow'], 'DVS_BAD_ARGUMENT');
  await fails('ports/add', ['a-very-long-interface-name', '100'], 'DVS_BAD_ARGUMENT');
  assert.match(
    await fails('ports/add', ['vm1', '200'], 'DVS_CONFLICT'),
    /port vm1 already exists \(100, plug create\)/,
  );
  await fails('ports/add', ['vm1', '100', 'attach'], 'DVS_CONFLICT');
  await fails('ports/add', ['missing0', '100', 'adopt'], 'DVS_NOT_FOUND');
  await fails('ports/add', ['adopted0', '100'], 'DVS_CONFLICT');
  await fails('ports/del', ['vm9'], 'DVS_NOT_FOUND');
  await fails('fdb/show', ['abc'], 'DVS_BAD_ARGUMENT');
  await fails('fdb/show', ['999'], 'DVS_NOT_FOUND');
  await fails('ports/announce', ['vm1', 'ff:ff:ff:ff:ff:ff'], 'DVS_BAD_ARGUMENT');
  assert.equal(JSON.stringify((await client.call('ports/show')).data), before);
  assert.equal(kernel.taps.has('vm2'), false);
});

test('ports/add creates a TAP with the overlay MTU, adopts an existing one, ports/del removes them', async () => {
  const r = await client.call('ports/add', ['vm2', 'trunk:10=100,20=200']);
  const view = r.data as PortView;
  assert.equal(view.mode, 'trunk');
  assert.deepEqual(view.vlans, { '10': 100, '20': 200 });
  assert.equal(view.mtu, 1400, 'the smallest overlay MTU of its VNIs');
  assert.equal(kernel.exists('vm2'), true);
  await client.call('ports/add', ['adopted0', '200', 'adopt']);
  const shown = (await client.call('ports/show')).data as PortView[];
  assert.deepEqual(
    shown.map((p) => p.name),
    ['adopted0', 'vm1', 'vm2'],
  );
  await client.call('ports/del', ['vm2']);
  await client.call('ports/del', ['adopted0']);
  assert.equal(kernel.exists('vm2'), false, 'a created TAP disappears');
  assert.equal(kernel.exists('adopted0'), true, 'an adopted TAP stays');
  assert.match((await client.call('ports/show')).text, /^PORT +KIND +DEVICE +STATE +SINCE +MODE/);
});

test('ports/announce switches RARP announcements from the port: learned locally, flooded to the peers', async () => {
  datagrams.length = 0;
  const vm = '52:54:00:12:34:56';
  await client.call('ports/announce', ['vm1', vm, '2']);
  await settle();
  assert.equal(datagrams.length, 2);
  assert.equal(datagrams[0].to.address, '198.51.100.2');
  const inner = datagrams[0].data.subarray(8);
  assert.equal(inner.readUInt16BE(12), 0x8035, 'RARP');
  assert.equal(inner.subarray(0, 6).toString('hex'), 'ffffffffffff');
  const fdb = (await client.call('fdb/show', ['100'])).data as FdbEntryView[];
  assert.deepEqual(
    fdb.map((e) => [e.mac, e.kind, e.location]),
    [[vm, 'port', 'vm1']],
  );
  assert.match((await client.call('fdb/show')).text, /52:54:00:12:34:56 +port +vm1/);
});

test('fdb/flush, counters/show and peers/show through the socket', async () => {
  kernel.taps.get('vm1')?.inject(frame(BROADCAST, mac('02:00:00:00:00:07')));
  await settle();
  const c = (await client.call('counters/show')).data as {
    fdb: { size: number; learns: number };
    ports: Record<string, { rxFrames: number }>;
  };
  assert.ok(c.fdb.size >= 2);
  assert.ok(c.ports.vm1.rxFrames >= 3);
  const flushed = await client.call('fdb/flush', ['100']);
  assert.equal((flushed.data as { flushed: number }).flushed, c.fdb.size);
  assert.equal(((await client.call('fdb/show')).data as unknown[]).length, 0);
  const peers = (await client.call('peers/show')).data as { vtep: string; vnis: number[] }[];
  assert.deepEqual(
    peers.map((p) => [p.vtep, p.vnis]),
    [
      ['198.51.100.2:4789', [100]],
      ['198.51.100.3:4754', [200]],
    ],
  );
  assert.match((await client.call('counters/show')).text, /unknown-vtep +0/);
});

test('sockets/show: each tunnel socket with its encap, address, receive and send mode, and datagrams (text and JSON)', async () => {
  const before = (await client.call('sockets/show')).data as { encap: string; datagramsOut: number }[];
  // A broadcast from vm1 floods to VNI 100's VXLAN peer: one datagram out of the VXLAN socket.
  kernel.taps.get('vm1')?.inject(frame(BROADCAST, mac('02:00:00:00:00:08')));
  await settle();
  const r = await client.call('sockets/show');
  const data = r.data as { encap: string; address: string; port: number; receive: string; datagramsOut: number }[];
  assert.deepEqual(
    data.map((s) => [s.encap, s.address, s.port, s.receive]),
    [
      ['vxlan', '198.51.100.1', 4789, 'plain'],
      ['gre-udp', '198.51.100.1', 4754, 'plain'],
    ],
    'the fake sockets take no UDP_GRO',
  );
  assert.equal(data[0].datagramsOut - before[0].datagramsOut, 1);
  assert.match(r.text, /^ENCAP\s+ADDRESS\s+RECEIVE\s+SEND/);
  assert.match(r.text, /vxlan\s+198\.51\.100\.1:4789\s+plain/);
});

test('trace explains the decision through the socket (text and JSON) and changes nothing', async () => {
  const before = JSON.stringify((await client.call('counters/show')).data);
  const r = await client.call('trace', ['100', '02:00:00:00:00:31', 'ff:ff:ff:ff:ff:ff', 'vm1']);
  const data = r.data as {
    decision: { action: string; outputs: { kind: string; vtep?: string; udpPort?: number; tunnelHeader?: string }[] };
  };
  assert.equal(data.decision.action, 'flood');
  assert.deepEqual(data.decision.outputs, [
    {
      kind: 'vtep',
      vtep: '198.51.100.2:4789',
      address: '198.51.100.2',
      udpPort: 4789,
      sourcePort: 4789, // the fake socket has no source-port pool: the tunnel port itself
      encap: 'vxlan',
      tunnelHeader: '0800000000006400',
    },
  ]);
  assert.match(r.text, /^trace VNI 100 02:00:00:00:00:31 → ff:ff:ff:ff:ff:ff from port vm1/);
  assert.match(
    r.text,
    /decision: flood: BUM frame\n {2}→ vxlan 198\.51\.100\.2:4789 udp 4789→4789 header 0800000000006400/,
  );
  const unknown = await client.call('trace', ['999', '02:00:00:00:00:31', '02:00:00:00:00:32']);
  assert.match(unknown.text, /decision: drop \(unknown-vni\)/);
  assert.equal(JSON.stringify((await client.call('counters/show')).data), before, 'nothing counted');
  await fails('trace', ['100', 'zz', '02:00:00:00:00:32'], 'DVS_BAD_ARGUMENT');
  await fails('trace', ['100', '02:00:00:00:00:31', '02:00:00:00:00:32', 'vm9'], 'DVS_NOT_FOUND');
});
