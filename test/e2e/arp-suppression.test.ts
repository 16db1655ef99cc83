// ARP and IPv6 ND suppression in the namespace lab, with real etcd, the
// controller and three agents. tshark on the underlay counts the ARP
// broadcasts and NSs that cross it; the VMs' own `ip neigh` shows what
// their kernels made of the answers. Asserted:
//  - learning: the controller's FDB carries each VM's IPs (the IPS column)
//  - suppression off: a VM's ARP for a resolved IP crosses the underlay
//  - suppression on: it does not, yet the VM's neighbour entry holds the
//    right MAC (REACHABLE/STALE/DELAY), for IPv4 and for IPv6
//  - an unknown IP still floods
//  - migration: the binding moves with the MAC; no stale answer after it
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateVm, type VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import * as sup from '../support/suppression-lab.js';
import { ARP_REQUEST_FOR, NS_FOR, type Decoded } from '../support/suppression-lab.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
const lab = useLab({ hosts: 3, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: VNI, encap: 'vxlan' }] });

const vm = (name: string): VmState => lab().vm(name);
const vmOn = (host: string): VmState => lab().state.vms.find((v) => v.host === host)!;
const v6Of = (v: VmState): string => sup.v6Of(VNI, v);
const countOnUnderlay = (host: string, from: VmState, match: (d: Decoded) => boolean, act: () => Promise<void>) =>
  sup.countOnUnderlay(lab(), host, from, match, act);
const neighbour = (from: VmState, ip: string) => sup.neighbour(lab(), from, ip);
const flushNeighbours = (v: VmState) => sup.flushNeighbours(lab(), v);
const ping = (from: VmState, to: string, family: 4 | 6 = 4) => sup.ping(lab(), from, to, family);
const setSuppression = (on: boolean) => sup.setSuppression(lab(), VNI, on);
const waitPublished = (v: VmState, ip: string, host = v.host) => sup.waitPublished(lab(), VNI, v, ip, host);

async function suppressionOf(host: string) {
  const { data } = await lab().admin(host).call('networks/show');
  return data.find((n) => n.vni === VNI)!.suppression;
}

test('learning: each VM talks once, and the controller publishes its IP with its MAC (IPS column)', async () => {
  const [a, b, c] = [vmOn('h1'), vmOn('h2'), vmOn('h3')];
  for (const [x, y] of [
    [b, a],
    [c, a],
  ] as const) {
    assert.ok(await ping(x, y.address), `${x.name} → ${y.name}`);
  }
  for (const v of [a, b, c]) await waitPublished(v, v.address);
  // The controller's table has it; h1 gets it through its etcd watch, a moment later.
  const ips = await waitFor('h1 holds a binding for vm-on-h2', async () => {
    const { data } = await lab()
      .admin('h1')
      .call('fdb/show', [String(VNI)]);
    const held = data.find((e) => e.mac === b.mac)?.ips;
    return held !== undefined && held.length > 0 ? held : undefined;
  });
  assert.deepEqual(ips, [b.address], 'h1 holds vm-on-h2 IP as a remote binding');
});

test('suppression off: an ARP request for a resolved IP crosses the underlay', async () => {
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await setSuppression(false);
  await flushNeighbours(a);
  const crossed = await countOnUnderlay('h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await ping(a, b.address));
  });
  assert.ok(crossed >= 1, `expected the broadcast on the underlay, saw ${crossed}`);
});

test('suppression on: none crosses, and the VM resolves the right MAC (IPv4)', async () => {
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await setSuppression(true);
  const before = await suppressionOf('h1');
  await flushNeighbours(a);
  const crossed = await countOnUnderlay('h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await ping(a, b.address), 'the ping works on the answer');
  });
  assert.equal(crossed, 0, 'no ARP request for a resolved IP crossed the underlay');
  const n = await neighbour(a, b.address);
  assert.equal(n?.lladdr, b.mac, `${a.name}'s neighbour entry for ${b.address}`);
  assert.ok(
    n?.state?.some((s) => ['REACHABLE', 'STALE', 'DELAY'].includes(s)),
    `state ${JSON.stringify(n?.state)}`,
  );
  const after = await suppressionOf('h1');
  assert.ok(after.answered > before.answered, 'h1 counted its answer');

  // An IP nobody holds still floods.
  const unknown = `${a.address.split('.').slice(0, 3).join('.')}.250`;
  const flooded = await countOnUnderlay('h1', a, ARP_REQUEST_FOR(unknown), async () => {
    await ping(a, unknown);
  });
  assert.ok(flooded >= 1, 'an unknown IP is flooded');
  assert.ok((await suppressionOf('h1')).flooded > after.flooded, 'and counted');
});

test('suppression on: an NS for a resolved IPv6 address does not cross; the VM gets the right MAC', async () => {
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await sup.addIpv6(lab(), VNI, [a, b]);
  // b solicits a: its NS binds b's address on h2, a's NA binds a's on h1.
  await waitFor(`${b.name} → ${a.name} over IPv6`, () => ping(b, v6Of(a), 6), 15_000, 200);
  await waitPublished(b, v6Of(b));
  await flushNeighbours(a);
  const crossed = await countOnUnderlay('h1', a, NS_FOR(v6Of(b)), async () => {
    assert.ok(await ping(a, v6Of(b), 6), 'the IPv6 ping works on the answer');
  });
  assert.equal(crossed, 0, 'no NS for a resolved address crossed the underlay');
  const n = await neighbour(a, v6Of(b));
  assert.equal(n?.lladdr, b.mac);
  assert.ok(
    n?.state?.some((s) => ['REACHABLE', 'STALE', 'DELAY'].includes(s)),
    `state ${JSON.stringify(n?.state)}`,
  );
});

test('migration: the binding moves with the MAC; answers stay true and nothing crosses', async () => {
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await migrateVm(lab(), b.name, 'h3');
  assert.equal(vm(b.name).host, 'h3');
  await waitPublished(vm(b.name), b.address, 'h3');
  // The old host holds no local binding for it any more: its answer would come from the FDB at h3.
  const { data } = await lab()
    .admin('h2')
    .call('fdb/show', [String(VNI)]);
  const atOld = data.find((e) => e.mac === b.mac);
  assert.ok(atOld === undefined || atOld.kind === 'vtep', 'h2 lets go of the MAC');
  await flushNeighbours(a);
  const crossed = await countOnUnderlay('h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await ping(a, b.address), `${a.name} reaches ${b.name} at its new host`);
  });
  assert.equal(crossed, 0, 'answered from the binding that moved');
  assert.equal((await neighbour(a, b.address))?.lladdr, b.mac);
});
