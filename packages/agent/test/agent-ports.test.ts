// The agent's ports and their devices' life cycle, over a fake kernel
// (FakeLinks: the link monitor, attached devices and TAPs of one namespace):
// gone → down → back → up, the refusals, the MTU warning.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUdpNetwork, type FakeDatagram } from '@dvs/netdev/testing';
import { Agent, validateConfig, type DataPathEvents } from '../src/index.js';
import type { PortRequest } from '../src/ports/managed-port.js';
import { portMetricLines } from '../src/ports/port-metrics.js';
import { FakeKernel } from './fake-devices.js';
import { waitFor } from '@dvs/test-support';
import { CapturingLogger } from './etcd-sync-fakes.js';
import { BROADCAST, frame, mac, settle } from './frames.js';

const VM = mac('52:54:00:00:00:01');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  agent: Agent;
  kernel: FakeKernel;
  logger: CapturingLogger;
  dir: string;
  sent: FakeDatagram[];
}

async function setup(extra: Record<string, unknown> = {}, kernel?: FakeKernel, dir?: string): Promise<Setup> {
  const sent: FakeDatagram[] = [];
  const net = kernel?.net ?? new FakeUdpNetwork();
  net.filter = (d) => {
    sent.push({ ...d, data: Buffer.from(d.data) });
    return true;
  };
  const k = kernel ?? new FakeKernel(net);
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'dva-ports-')));
  if (dir === undefined) cleanups.push(() => rm(d, { recursive: true, force: true }));
  const logger = new CapturingLogger();
  const agent = new Agent({
    config: validateConfig({
      host: 'host-a',
      vtep: { address: '198.51.100.1' },
      adminSocket: join(d, 'agent.sock'),
      stateFile: join(d, 'agent-state.json'),
      networks: [{ vni: 100, mtu: 1400, peers: ['198.51.100.2'] }],
      health: { enabled: false },
      ...extra,
    }),
    devices: k,
    logger,
    adminSocket: false,
    dataPath: { agingTimer: false },
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  return { agent, kernel: k, logger, dir: d, sent };
}

const attach = (name: string): PortRequest => ({
  name,
  mapping: { mode: 'access', vni: 100 },
  plug: 'attach',
  persistent: false,
});

function view(agent: Agent, name: string) {
  const v = agent.portViews().find((p) => p.name === name);
  assert.ok(v, `port ${name} listed`);
  return v;
}

test('an attached QEMU TAP: gone when QEMU exits (MACs withdrawn, fd closed, one log line), attached again when it comes back', async () => {
  const { agent, kernel, logger, sent } = await setup();
  const gone: DataPathEvents['mac:gone'][] = [];
  agent.dataPath.on('mac:gone', (e) => gone.push(e));
  kernel.qemuTap('vnet3');
  const added = await agent.addPort(attach('vnet3'));
  assert.deepEqual(
    [added.kind, added.deviceKind, added.state, added.origin, added.deviceGone, added.reattached],
    ['attach', 'tap', 'up', 'runtime', 0, 0],
  );
  const first = kernel.attached.get('vnet3')!;
  first.inject(frame(BROADCAST, VM));
  await settle();
  assert.equal(sent.length, 1, 'the VM broadcast is flooded to the peer');
  assert.ok(agent.dataPath.fdbEntries(100).some((e) => e.kind === 'port' && e.location === 'vnet3'));
  const upSince = view(agent, 'vnet3').since;

  // QEMU dies (SIGKILL in the middle of a migration, say): its TAP goes with its fd.
  await new Promise((r) => setTimeout(r, 5));
  kernel.qemuExits('vnet3');
  await waitFor('port gone', () => (view(agent, 'vnet3').state === 'gone' ? true : undefined));
  const down = view(agent, 'vnet3');
  assert.equal(down.deviceGone, 1);
  assert.ok(down.since > upSince, 'since: when it went');
  assert.equal(down.detail, 'device deleted');
  assert.ok(first.closed, 'our fd of it is closed');
  assert.equal(agent.dataPath.hasPort('vnet3'), false, 'out of the data path');
  assert.deepEqual(
    gone.map((e) => [e.vni, e.port]),
    [[100, 'vnet3']],
    'its MAC withdrawn as for a removed port',
  );
  assert.equal(agent.dataPath.fdbEntries(100).length, 0);
  assert.equal(logger.count('warn', /^port device gone/), 1, 'one log line');
  assert.equal(agent.counters().ports.vnet3.rxFrames, 1, 'its counters are kept while it is gone');
  const metrics = portMetricLines('host-a', agent.portViews(), 0).join('\n');
  assert.match(
    metrics,
    /^dvs_agent_port_state\{host="host-a",port="vnet3",kind="attach",device_kind="tap",state="gone"\} 1$/m,
  );
  assert.match(metrics, /^dvs_agent_port_device_gone_total\{host="host-a",port="vnet3"\} 1$/m);

  // The VM starts again (or the migration fails back): a TAP of the same name.
  kernel.qemuTap('vnet3');
  await waitFor('port back', () => (view(agent, 'vnet3').state === 'up' ? true : undefined));
  const back = view(agent, 'vnet3');
  assert.equal(back.reattached, 1);
  assert.equal(logger.count('info', /^port device back: attached again/), 1);
  // QEMU's hook asks for the same port again: nothing changes.
  const again = await agent.addPort(attach('vnet3'));
  assert.deepEqual([again.state, again.reattached, again.ifindex], ['up', 1, back.ifindex]);
  await assert.rejects(agent.addPort({ ...attach('vnet3'), mapping: { mode: 'access', vni: 200 } }), {
    code: 'DVS_CONFLICT',
    message: /port vnet3 already exists \(100, plug attach\): ports\/del it first/,
  });
  const second = kernel.attached.get('vnet3')!;
  assert.notEqual(second, first, 'a new device (new ifindex)');
  assert.equal(back.ifindex, second.ifindex);
  second.inject(frame(BROADCAST, VM));
  await settle();
  assert.equal(sent.length, 2, 'frames flow again');
  assert.equal(view(agent, 'vnet3').counters.rxFrames, 2, 'counters continue');
});

test('a TAP the agent created, deleted under it, goes down the same way; a TAP of its name coming back is opened again', async () => {
  const { agent, kernel, logger } = await setup({ ports: [{ name: 'vm1', vni: 100 }] });
  assert.equal(view(agent, 'vm1').state, 'up');
  assert.equal(view(agent, 'vm1').kind, 'tap-created');
  const tap = kernel.taps.get('vm1')!;
  kernel.links.remove('vm1'); // ip link del vm1
  await waitFor('vm1 gone', () => (view(agent, 'vm1').state === 'gone' ? true : undefined));
  assert.ok(tap.closed);
  assert.equal(logger.count('warn', /^port device gone/), 1);
  await settle();
  assert.equal(logger.count('warn', /^port device gone/), 1, 'said once, not on every loop turn');
  kernel.precreate('vm1');
  await waitFor('vm1 back', () => (view(agent, 'vm1').state === 'up' ? true : undefined));
  assert.equal(view(agent, 'vm1').reattached, 1);
});

test('an attached veth follows its link: down while it is down, up again', async () => {
  const { agent, kernel } = await setup();
  kernel.links.add('veth-pod1', { kind: 'veth', mtu: 1400 });
  await agent.addPort(attach('veth-pod1'));
  assert.equal(view(agent, 'veth-pod1').deviceKind, 'veth');
  kernel.links.setUp('veth-pod1', false);
  await waitFor('down', () => (view(agent, 'veth-pod1').state === 'down' ? true : undefined));
  assert.match(view(agent, 'veth-pod1').detail ?? '', /down/);
  kernel.links.setUp('veth-pod1', true);
  await waitFor('up', () => (view(agent, 'veth-pod1').state === 'up' ? true : undefined));
  assert.equal(view(agent, 'veth-pod1').deviceGone, 0, 'down is not gone');
});

test('refusals name the device and the fix, and change nothing', async () => {
  const { agent, kernel, dir } = await setup({ ports: [{ name: 'vm1', vni: 100 }] });
  kernel.links.add('eth0', { kind: 'physical' });
  kernel.addresses.set('eth0', '198.51.100.1');
  kernel.links.add('tun0', { kind: 'tun', ethernet: false });
  kernel.qemuTap('vnet7');
  kernel.links.add('veth9', { kind: 'veth' });
  const before = JSON.stringify(agent.portViews());
  const refusals: [PortRequest, string, RegExp][] = [
    [attach('nope0'), 'DVS_NO_DEVICE', /no device nope0 in this network namespace/],
    [attach('eth0'), 'DVS_DEVICE_UNSUITABLE', /eth0 holds this agent's VTEP address 198\.51\.100\.1/],
    [attach('lo'), 'DVS_DEVICE_UNSUITABLE', /lo is the loopback device/],
    [attach('tun0'), 'DVS_DEVICE_UNSUITABLE', /tun0 is not an Ethernet device/],
    [attach('vm1'), 'DVS_CONFLICT', /port vm1 already exists/],
    [
      { ...attach('vnet7'), plug: 'adopt' },
      'DVS_DEVICE_BUSY',
      /attached, not adopted: ports\/add vnet7 <mapping> attach/,
    ],
    [{ ...attach('veth9'), plug: 'adopt' }, 'DVS_NAME_IN_USE', /veth9 is not a TAP: attach it instead/],
    [
      { ...attach('veth9'), plug: 'create' },
      'DVS_CONFLICT',
      /a device named veth9 already exists \(kind veth\): attach it/,
    ],
  ];
  for (const [request, code, message] of refusals) {
    await assert.rejects(agent.addPort(request), { code, message }, `${request.plug} ${request.name}`);
  }
  assert.equal(JSON.stringify(agent.portViews()), before, 'ports unchanged');
  assert.equal(kernel.attached.size, 0, 'nothing attached');
  await assert.rejects(stat(join(dir, 'agent-state.json')), { code: 'ENOENT' }, 'no state written');
});

test('MTU: a device MTU above the overlay MTU is warned about (log and view), its larger frames dropped (mtu); checked again when either changes', async () => {
  const { agent, kernel, logger, sent } = await setup();
  kernel.qemuTap('vnet4', { mtu: 1500 });
  const added = await agent.addPort(attach('vnet4'));
  assert.match(added.mtuWarning ?? '', /device MTU 1500 is larger than the overlay MTU 1400/);
  assert.equal(added.overlayMtu, 1400);
  assert.equal(logger.count('warn', /^port MTU is larger than the overlay MTU/), 1);
  const device = kernel.attached.get('vnet4')!;
  device.inject(frame(BROADCAST, VM, 1500), frame(BROADCAST, VM, 1400));
  await settle();
  assert.equal(agent.counters().drops.mtu, 1, 'the 1500-byte payload is dropped as mtu');
  assert.equal(sent.length, 1, 'the 1400-byte one is switched');

  kernel.links.setMtu('vnet4', 1400);
  await waitFor('warning cleared', () => (view(agent, 'vnet4').mtuWarning === null ? true : undefined));
  assert.equal(logger.count('info', /^port MTU fits the overlay MTU again/), 1);

  // The network's overlay MTU shrinks (etcd): checked again.
  agent.dataPath.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1300 } }]);
  agent.networksChanged();
  assert.match(view(agent, 'vnet4').mtuWarning ?? '', /device MTU 1400 is larger than the overlay MTU 1300/);
  assert.equal(logger.count('warn', /^port MTU is larger than the overlay MTU/), 2);
});

test('an adopt or attach port of the config whose device is not there yet waits for it (gone), then comes up', async () => {
  const { agent, kernel, logger } = await setup({ ports: [{ name: 'vnet9', vni: 100, plug: 'attach' }] });
  const waiting = view(agent, 'vnet9');
  assert.deepEqual([waiting.state, waiting.origin, waiting.deviceKind], ['gone', 'config', 'unknown']);
  assert.match(waiting.detail ?? '', /no device vnet9 in this network namespace yet/);
  assert.equal(logger.count('warn', /^no device for the port yet/), 1);
  kernel.qemuTap('vnet9');
  await waitFor('vnet9 up', () => (view(agent, 'vnet9').state === 'up' ? true : undefined));
});

test('a device that cannot be read any more is reported once by the data path (port:gone), not spun on', async () => {
  const { agent, kernel } = await setup({ ports: [{ name: 'vm1', vni: 100 }] });
  const events: DataPathEvents['port:gone'][] = [];
  agent.dataPath.on('port:gone', (e) => events.push(e));
  const tap = kernel.taps.get('vm1')!;
  let reads = 0;
  const read = tap.read.bind(tap);
  tap.read = (batch, headroom) => {
    reads++;
    return read(batch, headroom);
  };
  kernel.links.remove('vm1');
  await settle(50);
  assert.deepEqual(
    events.map((e) => [e.port, e.code]),
    [['vm1', 'DVS_DEVICE_GONE']],
  );
  assert.equal(reads, 1, 'read once, then no longer watched');
});

test('QoS stays with the port: from the config, changed at run time, set while gone, put on the device when it comes back', async () => {
  const { agent, kernel } = await setup({
    ports: [{ name: 'vm1', vni: 100, qos: { ingress: { rate: 8000, burst: 800 } } }],
  });
  assert.deepEqual(view(agent, 'vm1').qos, {
    ingress: { rateKbps: 8000, burstKb: 800, policed: 0 },
    egress: null,
  });
  kernel.links.remove('vm1');
  await waitFor('vm1 gone', () => (view(agent, 'vm1').state === 'gone' ? true : undefined));
  agent.setPortQos('vm1', 'egress', { rateKbps: 100_000, burstKb: 10_000 });
  assert.throws(() => agent.setPortQos('vm1', 'egress', { rateKbps: 0, burstKb: 10_000 }), /egress rate must be/);
  kernel.precreate('vm1');
  await waitFor('vm1 back', () => (view(agent, 'vm1').state === 'up' ? true : undefined));
  assert.deepEqual(view(agent, 'vm1').qos, {
    ingress: { rateKbps: 8000, burstKb: 800, policed: 0 },
    egress: { rateKbps: 100_000, burstKb: 10_000, policed: 0 },
  });
});
