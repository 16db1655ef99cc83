import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FdbEntry } from '@dvs/netdev';
import { FakeFrameDevice } from '@dvs/netdev/testing';
import { Datapaths } from '../src/dpif/datapaths.js';
import { UserspaceProvider } from '../src/dpif/userspace-provider.js';
import { KernelNetwork } from '../src/dpif/kernel/kernel-network.js';
import type { DatapathProvider } from '../src/dpif/provider.js';
import type { TableChange } from '../src/datapath/control-surface.js';

/** A second userspace pipeline standing in for the kernel provider: the router's logic, not the kernel, is under test. */
function standIn(): DatapathProvider {
  const p = new UserspaceProvider({ agingTimer: false });
  return Object.assign(Object.create(p) as DatapathProvider, { kind: 'kernel' as const });
}

const vtep = (n: number) => ({ address: `198.51.100.${n}`, port: 4789 });

test('Datapaths routes by VNI, refuses a batch whole across both providers, and moves a VNI whose encap changes', () => {
  const userspace = new UserspaceProvider({ agingTimer: false });
  const kernel = standIn();
  const dp = new Datapaths({
    userspace,
    kernel,
    vxlanOwner: { provider: 'kernel', reason: 'agent datapath: kernel' },
    networkChoice: () => 'auto',
  });
  const ok = dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    { kind: 'network:set', network: { vni: 200, encap: 'gre-udp', mtu: 1450 } },
    { kind: 'fdb:set', vni: 100, mac: 0x020000000001, vtep: vtep(2), seq: 1 },
  ]);
  assert.deepEqual(ok, { applied: 3, rejected: [] });
  assert.equal(dp.placementOf(100)?.provider, 'kernel');
  assert.equal(dp.placementOf(200)?.provider, 'userspace');
  assert.match(dp.placementOf(200)!.reason, /no FOU/);
  assert.equal(kernel.fdbEntries(100).length, 1, 'the kernel side got VNI 100');
  assert.equal(userspace.hasNetwork(100), false);

  // A bad change on the userspace side: the kernel side's part is not applied either.
  const bad: TableChange[] = [
    { kind: 'fdb:set', vni: 100, mac: 0x020000000002, vtep: vtep(3), seq: 1 },
    { kind: 'fdb:set', vni: 200, mac: 0x020000000003, vtep: { address: 'nope', port: 1 }, seq: 1 },
  ];
  const refused = dp.apply(bad);
  assert.equal(refused.applied, 0);
  assert.deepEqual(
    refused.rejected.map((r) => r.index),
    [1],
    'the index is the batch index',
  );
  assert.equal(kernel.fdbEntries(100).length, 1, 'nothing of the batch applied');

  // VNI 100 becomes GRE-in-UDP: it leaves the kernel side in the same batch.
  dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'gre-udp', mtu: 1450 } }]);
  assert.equal(dp.placementOf(100)?.provider, 'userspace');
  assert.equal(kernel.hasNetwork(100), false);
  assert.equal(userspace.hasNetwork(100), true);
  assert.deepEqual(
    dp.networkViews().map((n) => [n.vni, n.provider]),
    [
      [100, 'userspace'],
      [200, 'userspace'],
    ],
  );
});

test('a trunk port that maps a kernel network is refused with the reason; ports of an unknown VNI go to the VXLAN owner', () => {
  const userspace = new UserspaceProvider({ agingTimer: false });
  const kernel = standIn();
  const dp = new Datapaths({
    userspace,
    kernel,
    vxlanOwner: { provider: 'kernel', reason: 'agent datapath: kernel' },
    networkChoice: () => 'auto',
  });
  dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } }]);
  assert.throws(
    () => dp.portDeviceUse({ name: 'trunk0', mode: 'trunk', vlans: new Map([[10, 100]]) }),
    (err: { code?: string; message?: string }) =>
      err.code === 'DVS_DATAPATH_UNSUPPORTED' && /no VLAN filtering/.test(err.message ?? ''),
  );
  // A trunk of userspace (or not yet known) networks is the pipeline's.
  assert.equal(dp.portDeviceUse({ name: 'trunk1', mode: 'trunk', vlans: new Map([[20, 300]]) }), 'frames');
  dp.addPort({ name: 'early', mode: 'access', vni: 400 }, new FakeFrameDevice({ name: 'early' }));
  assert.equal(kernel.hasPort('early'), true, 'a port whose network has not arrived goes to the VXLAN owner');
  assert.equal(userspace.hasPort('early'), false);
});

test('the kernel network: flood list changes as all-zeros appends and deletions; stale entries found', () => {
  const net = new KernelNetwork({ vni: 100, encap: 'vxlan', mtu: 1450 });
  net.vxlanIndex = 7;
  assert.deepEqual(
    net.floodChanges([vtep(2), vtep(3)], [vtep(3), vtep(4)]).map((c) => [c.op, c.mac, c.dst]),
    [
      ['del', 0, '198.51.100.2'],
      ['append', 0, '198.51.100.4'],
    ],
  );
  net.flood = [vtep(3)];
  net.remote.set(0x020000000001, { vtep: vtep(2), seq: 1, static: false, ips: [] });
  const entry = (mac: number, dst: string, dstPort = 0): FdbEntry => ({
    ifindex: 7,
    master: 0,
    table: 'self',
    mac,
    vlan: 0,
    state: 'permanent',
    dst,
    dstPort,
    vni: null,
    srcVni: null,
    via: 0,
    extLearned: false,
    sticky: false,
  });
  const stale = net.staleEntries(
    [
      entry(0, '198.51.100.3'), // wanted flood entry
      entry(0, '198.51.100.9'), // stale flood entry
      entry(0x020000000001, '198.51.100.2'), // wanted
      entry(0x020000000001 + 1, '198.51.100.2'), // no table names it
      entry(0x020000000001 + 2, ''), // the device's own address: the kernel's
    ],
    4789,
  );
  assert.deepEqual(
    stale.map((c) => [c.op, c.mac, c.dst ?? null]),
    [
      ['del', 0, '198.51.100.9'],
      ['del', 0x020000000002, null],
    ],
  );
});

test("a network record's datapath places the network; an ask this host cannot meet is served where it can be, saying why", () => {
  const userspace = new UserspaceProvider({ agingTimer: false });
  const kernel = standIn();
  const dp = new Datapaths({
    userspace,
    kernel,
    vxlanOwner: { provider: 'kernel', reason: 'agent datapath: kernel' },
    networkChoice: (vni) => (vni === 400 ? 'kernel' : undefined),
  });
  const result = dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450, datapath: 'kernel' } },
    { kind: 'network:set', network: { vni: 200, encap: 'vxlan', mtu: 1450, datapath: 'userspace' } },
    { kind: 'network:set', network: { vni: 300, encap: 'gre-udp', mtu: 1450, datapath: 'kernel' } },
    // The agent's own config names VNI 400 (kernel): it wins over the record's userspace.
    { kind: 'network:set', network: { vni: 400, encap: 'vxlan', mtu: 1450, datapath: 'userspace' } },
  ]);
  assert.deepEqual(result, { applied: 4, rejected: [] }, 'a network record never refuses the batch');
  assert.deepEqual(dp.placementOf(100), { vni: 100, provider: 'kernel', reason: 'network datapath: kernel' });
  const vx = dp.placementOf(200)!;
  assert.equal(vx.provider, 'kernel');
  assert.match(vx.reason, /asks for the userspace datapath, but this host's VXLAN port belongs to the kernel provider/);
  assert.match(vx.reason, /one UDP port, one owner; set the network's datapath to auto or kernel/);
  const gre = dp.placementOf(300)!;
  assert.equal(gre.provider, 'userspace');
  assert.match(gre.reason, /asks for the kernel datapath, but gre-udp: this kernel has no FOU/);
  assert.deepEqual(dp.placementOf(400), { vni: 400, provider: 'kernel', reason: 'network datapath: kernel' });
});
