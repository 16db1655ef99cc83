import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { openFdbMonitor, openRtnetlink } from '../src/index.js';
import type { FdbChange, FdbEntry, NetlinkFdbMonitor, Rtnetlink } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';
import { waitFor } from '@dvs/test-support';

// Two hosts, each a namespace with a bridge and a vxlan device built and
// programmed through Rtnetlink only, joined by a veth underlay; a "VM"
// namespace on each, its veth enslaved to the host's bridge. Learning is off
// on the vxlan devices and their bridge ports, so frames between the VMs
// travel only by the FDB entries programmed here.

const id = `dvk${process.pid}`;
const VNI = 4242;
const UNDERLAY = { a: '198.51.100.1', b: '198.51.100.2' };
const OVERLAY = { a: '203.0.113.1', b: '203.0.113.2' };
const VM_MAC = { a: 0x02000000aa01, b: 0x02000000bb01 };
const macText = (mac: number): string =>
  mac
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');

interface Host {
  ns: LabNamespace;
  vm: LabNamespace;
  rtnl: Rtnetlink;
  monitor: NetlinkFdbMonitor;
  learned: FdbEntry[];
  bridge: number;
  vxlan: number;
  port: number;
}

const hosts = {} as Record<'a' | 'b', Host>;
const namespaces: LabNamespace[] = [];

function exec(ns: LabNamespace, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns.name, ...args], { encoding: 'utf8' });
}

/** One ping from a VM; true when it was answered. */
function ping(from: 'a' | 'b', to: 'a' | 'b'): boolean {
  const r = spawnSync('ip', ['netns', 'exec', hosts[from].vm.name, 'ping', '-c', '1', '-W', '1', '-q', OVERLAY[to]]);
  return r.status === 0;
}

/** `bridge fdb show dev <vxlan>` lines of the vxlan device's own table, sorted. */
function kernelVxlanFdb(side: 'a' | 'b'): string[] {
  return execFileSync('bridge', ['-n', hosts[side].ns.name, 'fdb', 'show', 'dev', `${id}v`], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(' self'))
    .map((l) => l.trim())
    .sort();
}

function unicastEntry(op: FdbChange['op'], side: 'a' | 'b'): FdbChange {
  const peer = side === 'a' ? 'b' : 'a';
  return op === 'del'
    ? { op, device: `${id}v`, mac: VM_MAC[peer] }
    : { op, device: `${id}v`, mac: VM_MAC[peer], dst: UNDERLAY[peer] };
}

before(() => {
  for (const side of ['a', 'b'] as const) {
    const ns = new LabNamespace(`${id}${side}`);
    namespaces.push(ns);
    const vm = new LabNamespace(`${id}${side}vm`);
    namespaces.push(vm);
    // The VM: a veth whose far end becomes the bridge port.
    vm.ip('link', 'add', 'eth0', 'address', macText(VM_MAC[side]), 'type', 'veth', 'peer', 'name', `${id}p`);
    vm.ip('link', 'set', `${id}p`, 'netns', ns.name);
    vm.ip('addr', 'add', `${OVERLAY[side]}/24`, 'dev', 'eth0');
    vm.ip('link', 'set', 'eth0', 'up');
    const rtnl = ns.run(() => openRtnetlink());
    const monitor = ns.run(() => openFdbMonitor({ tables: 'master' }));
    const learned: FdbEntry[] = [];
    monitor.on('fdb:add', (entry) => {
      if (entry.state === 'dynamic' || entry.state === 'stale') learned.push(entry);
    });
    const bridge = rtnl.createBridge({ name: `${id}b`, alias: 'dvs:test bridge', mtu: 1450 });
    const vxlan = rtnl.createVxlan({
      name: `${id}v`,
      alias: 'dvs:test vxlan',
      vni: VNI,
      local: UNDERLAY[side],
      mtu: 1450,
      master: bridge.ifindex,
    });
    const port = rtnl.setLink(`${id}p`, { master: bridge.ifindex, up: true, mtu: 1450 });
    hosts[side] = { ns, vm, rtnl, monitor, learned, bridge: bridge.ifindex, vxlan: vxlan.ifindex, port: port.ifindex };
  }
  // The underlay: a veth between the two hosts.
  hosts.a.ns.ip('link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink', 'netns', hosts.b.ns.name);
  for (const side of ['a', 'b'] as const) {
    hosts[side].ns.ip('addr', 'add', `${UNDERLAY[side]}/24`, 'dev', 'uplink');
    hosts[side].ns.ip('link', 'set', 'uplink', 'up');
  }
});

after(() => {
  for (const side of ['a', 'b'] as const) {
    hosts[side]?.monitor.close();
    hosts[side]?.rtnl.close();
  }
  for (const ns of namespaces) ns.dispose();
});

test('two VMs talk over kernel vxlan by the programmed entries only; the kernel holds what was programmed', async () => {
  for (const side of ['a', 'b'] as const) {
    const link = hosts[side].rtnl.link(hosts[side].vxlan);
    assert.equal(link?.vxlan?.learning, false, 'the vxlan device does not learn');
    assert.equal(link?.bridgePort?.learning, false, 'its bridge port does not learn');
    assert.equal(hosts[side].learned.length, 0, 'nothing learned before the first frame');
  }
  assert.equal(ping('a', 'b'), false, 'no entries yet: no way across');

  for (const side of ['a', 'b'] as const) {
    const peer = side === 'a' ? 'b' : 'a';
    const result = hosts[side].rtnl.applyFdbSync([
      { op: 'append', device: `${id}v`, mac: 0, dst: UNDERLAY[peer] },
      unicastEntry('add', side),
    ]);
    assert.deepEqual(result, { applied: 2, failed: [] });
  }
  assert.deepEqual(kernelVxlanFdb('a'), [
    `00:00:00:00:00:00 dst ${UNDERLAY.b} self static`,
    `${macText(VM_MAC.b)} dst ${UNDERLAY.b} self static`,
  ]);
  assert.deepEqual(kernelVxlanFdb('b'), [
    `00:00:00:00:00:00 dst ${UNDERLAY.a} self static`,
    `${macText(VM_MAC.a)} dst ${UNDERLAY.a} self static`,
  ]);
  // What our dump reads is what `bridge fdb show` printed.
  const dumped = hosts.a.rtnl.fdb({ device: `${id}v` }).filter((e) => e.table === 'self');
  assert.deepEqual(dumped.map((e) => `${macText(e.mac)} ${e.dst} ${e.state}`).sort(), [
    `00:00:00:00:00:00 ${UNDERLAY.b} static`,
    `${macText(VM_MAC.b)} ${UNDERLAY.b} static`,
  ]);

  assert.equal(ping('a', 'b'), true, 'ARP by the flood entry, then unicast by the static entries');
  assert.equal(ping('b', 'a'), true);
});

test('the bridge reports a VM MAC when its first frame arrives, on the VM port only (no learning from the tunnel)', async () => {
  for (const side of ['a', 'b'] as const) {
    const { learned, bridge, port } = hosts[side];
    await waitFor(`fdb:add of the local VM on ${side}`, () => learned.some((e) => e.mac === VM_MAC[side]), 5000, 2);
    const local = learned.find((e) => e.mac === VM_MAC[side]);
    assert.equal(local?.table, 'master');
    assert.equal(local?.master, bridge, 'held by the bridge');
    assert.equal(local?.ifindex, port, 'on the VM port');
    const remote = side === 'a' ? VM_MAC.b : VM_MAC.a;
    assert.equal(
      learned.some((e) => e.mac === remote),
      false,
      'the remote VM was never learned on the vxlan port',
    );
    assert.ok(hosts[side].monitor.entriesOf(bridge).some((e) => e.mac === VM_MAC[side]));
  }
});

test('with the flood entries gone, unicast entries still carry the traffic; without them it stops; replace brings it back', () => {
  for (const side of ['a', 'b'] as const) {
    const peer = side === 'a' ? 'b' : 'a';
    // Static ARP in the VMs: no broadcast is needed any more.
    exec(hosts[side].vm, 'ip', 'neigh', 'replace', OVERLAY[peer], 'lladdr', macText(VM_MAC[peer]), 'dev', 'eth0');
    const result = hosts[side].rtnl.applyFdbSync([{ op: 'del', device: `${id}v`, mac: 0, dst: UNDERLAY[peer] }]);
    assert.deepEqual(result.failed, []);
    assert.equal(kernelVxlanFdb(side).length, 1, 'only the unicast entry is left');
  }
  assert.equal(ping('a', 'b'), true, 'unicast entries alone');

  for (const side of ['a', 'b'] as const) {
    assert.deepEqual(hosts[side].rtnl.applyFdbSync([unicastEntry('del', side)]).failed, []);
    assert.deepEqual(kernelVxlanFdb(side), []);
  }
  assert.equal(ping('a', 'b'), false, 'no entries: traffic stops');

  for (const side of ['a', 'b'] as const) {
    assert.deepEqual(hosts[side].rtnl.applyFdbSync([unicastEntry('replace', side)]).failed, []);
  }
  assert.equal(ping('a', 'b'), true, 'replace (create or overwrite) restores it');
});

test('counters of the bridge port and the vxlan device, read in one dump, count the traffic', () => {
  const { rtnl } = hosts.a;
  const counters = rtnl.linkCounters([`${id}p`, `${id}v`, 'no-such-link']);
  assert.deepEqual(
    counters.map((c) => c.name),
    [`${id}p`, `${id}v`].sort((x, y) => rtnl.link(x)!.ifindex - rtnl.link(y)!.ifindex),
  );
  const vxlan = counters.find((c) => c.name === `${id}v`)!;
  assert.ok(vxlan.txPackets > 0 && vxlan.rxPackets > 0, 'frames went through the tunnel both ways');
  const kernel = JSON.parse(hosts.a.ns.ip('-s', '-j', 'link', 'show', 'dev', `${id}v`)) as {
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  assert.ok(kernel[0].stats64.tx.packets >= vxlan.txPackets, 'never ahead of the kernel');
  assert.ok(kernel[0].stats64.rx.packets >= vxlan.rxPackets);
});
