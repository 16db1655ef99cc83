// The kernel provider's switch features in the namespace lab (real etcd,
// controller, agents with `datapath: kernel`, veth VMs in Linux bridges):
//  - audit: the agents publish digests of what their vxlan devices hold;
//    an entry deleted behind the agent's back (`bridge fdb del`) is a
//    divergence, and `dvs audit --repair` puts it back;
//  - ARP/ND suppression: the agents learn their VMs' IP bindings (ARP, NS,
//    NA snooped in the kernel), the controller publishes them, and each
//    agent installs them as neighbour entries of its bridge, whose
//    neigh_suppress vxlan port then answers from them: tshark on the
//    underlay counts the ARPs and NSs that cross (none with suppression on,
//    some with it off), the VMs' `ip neigh` shows the right MAC, and after a
//    migration the answer is still true;
//  - port security: nftables bridge-family rules in dvs's table; spoofed
//    source MACs and a spoofed ARP from a port are dropped and counted in
//    the same counters as userspace, the victims keep working, and the
//    table goes when the last secured port does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labControllerClient, migrateVm, type VmState } from '@dvs/lab';
import { buildGratuitousArp, parseIpv4Address, parseMac, writeMac, type CountersSnapshot } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { waitVmPing } from '../support/lab-vms.js';
import { RawPort } from '../support/raw-port.js';
import { runDvs } from '../support/dvs-cli.js';
import { run } from '../support/run-command.js';
import { waitForCleanAudit, waitForFdbDivergence } from '../support/lab-audit.js';
import * as sup from '../support/suppression-lab.js';
import { ARP_REQUEST_FOR, NS_FOR } from '../support/suppression-lab.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
const lab = useLab({
  hosts: 3,
  vmsPerHost: 1,
  kernelHosts: 0,
  datapath: 'kernel',
  networks: [{ vni: VNI, encap: 'vxlan' }],
});

const vmOn = (host: string): VmState => lab().state.vms.find((v) => v.host === host)!;

test('audit: a kernel-provider host is in sync; an FDB entry deleted with `bridge fdb del` diverges and is repaired', async () => {
  const l = lab();
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await waitVmPing(l, a, b, 'before');
  await waitVmPing(l, b, a, 'before');
  const bMac = b.mac.toLowerCase();
  await waitFor('the controller places the h2 VM at h2', async () => {
    const entries = await labControllerClient(l.state).fdb({ vni: VNI, mac: bMac });
    return entries[0]?.host === 'h2';
  });
  const clean = await waitForCleanAudit(l, 3, 'a clean audit of the three kernel-provider hosts');
  assert.deepEqual(clean.divergences, []);

  const h1 = l.host('h1');
  await run(['bridge', '-n', h1.netns, 'fdb', 'del', bMac, 'dev', 'dvsvx100', 'self']);
  const caught = await waitForFdbDivergence(l, bMac, 'the audit names the deleted entry');
  assert.equal(caught.d.host, 'h1');
  assert.equal(caught.d.agentHas, 'nothing', JSON.stringify(caught.d));
  assert.equal(caught.d.intends, `${l.host('h2').underlayAddress}:4789`);
  assert.deepEqual(caught.view.divergentHosts, ['h1']);

  const repair = await runDvs(['--lab', l.id, 'audit', '--repair']);
  assert.match(repair.stdout, new RegExp(`resync requested: h1 VNI ${VNI}`));
  await waitForCleanAudit(l, 3, 'a clean audit after the repair');
  const fdb = (await run(['bridge', '-n', h1.netns, 'fdb', 'show', 'dev', 'dvsvx100'])).stdout;
  assert.match(fdb, new RegExp(`${bMac} dst ${l.host('h2').underlayAddress.replace(/\./g, '\\.')} .*self`));
  await waitVmPing(l, a, b, 'after the repair');
});

/** The bridge's neighbour entry for `ip` on `host` (what the kernel answers from). */
async function bridgeNeighbour(host: string, ip: string): Promise<{ lladdr?: string; state?: string[] } | undefined> {
  const r = await run(['ip', '-n', lab().host(host).netns, '-j', 'neigh', 'show', ip, 'dev', `dvsbr${VNI}`]);
  return (JSON.parse(r.stdout || '[]') as { dst: string; lladdr?: string; state?: string[] }[]).find(
    (e) => e.dst === ip,
  );
}

async function neighSuppress(host: string): Promise<boolean> {
  const r = await run(['bridge', '-n', lab().host(host).netns, '-d', '-j', 'link', 'show', 'dev', `dvsvx${VNI}`]);
  return (JSON.parse(r.stdout) as { neigh_suppress?: boolean }[])[0]?.neigh_suppress === true;
}

test('ARP suppression on the kernel provider: bindings learned and published; off: the ARP crosses; on: answered by the bridge', async () => {
  const l = lab();
  const [a, b, c] = [vmOn('h1'), vmOn('h2'), vmOn('h3')];
  for (const [x, y] of [
    [b, a],
    [c, a],
  ] as const)
    assert.ok(await sup.ping(l, x, y.address), `${x.name} → ${y.name}`);
  for (const v of [a, b, c]) await sup.waitPublished(l, VNI, v, v.address);
  await waitFor('h1 holds the binding of the h2 VM as a neighbour entry of its bridge', async () => {
    const n = await bridgeNeighbour('h1', b.address);
    return n?.lladdr === b.mac && n.state?.includes('NOARP') === true;
  });
  const { data } = await l.admin('h1').call('fdb/show', [String(VNI)]);
  assert.deepEqual(data.find((e) => e.mac === b.mac)?.ips, [b.address], 'fdb/show lists the remote binding');

  await sup.setSuppression(l, VNI, false);
  assert.equal(await neighSuppress('h1'), false);
  await sup.flushNeighbours(l, a);
  const crossed = await sup.countOnUnderlay(l, 'h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await sup.ping(l, a, b.address));
  });
  assert.ok(crossed >= 1, `suppression off: expected the broadcast on the underlay, saw ${crossed}`);

  await sup.setSuppression(l, VNI, true);
  assert.equal(await neighSuppress('h1'), true, 'the vxlan port has neigh_suppress on');
  await sup.flushNeighbours(l, a);
  const suppressed = await sup.countOnUnderlay(l, 'h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await sup.ping(l, a, b.address), 'the ping works on the answer');
  });
  assert.equal(suppressed, 0, 'no ARP request for a resolved IP crossed the underlay');
  await sup.assertResolved(l, a, b.address, b.mac);

  const unknown = `${a.address.split('.').slice(0, 3).join('.')}.250`;
  const flooded = await sup.countOnUnderlay(l, 'h1', a, ARP_REQUEST_FOR(unknown), async () => {
    await sup.ping(l, a, unknown);
  });
  assert.ok(flooded >= 1, 'an IP nobody holds still floods');
});

test('ND suppression on the kernel provider: an NS for a resolved IPv6 address does not cross', async () => {
  const l = lab();
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await sup.addIpv6(l, VNI, [a, b]);
  await waitFor(`${b.name} → ${a.name} over IPv6`, () => sup.ping(l, b, sup.v6Of(VNI, a), 6), 15_000, 200);
  await sup.waitPublished(l, VNI, b, sup.v6Of(VNI, b));
  await waitFor(
    'h1 holds the IPv6 binding',
    async () => (await bridgeNeighbour('h1', sup.v6Of(VNI, b)))?.lladdr === b.mac,
  );
  await sup.flushNeighbours(l, a);
  const crossed = await sup.countOnUnderlay(l, 'h1', a, NS_FOR(sup.v6Of(VNI, b)), async () => {
    assert.ok(await sup.ping(l, a, sup.v6Of(VNI, b), 6), 'the IPv6 ping works on the answer');
  });
  assert.equal(crossed, 0, 'no NS for a resolved address crossed the underlay');
  await sup.assertResolved(l, a, sup.v6Of(VNI, b), b.mac);
});

test('ARP suppression on the kernel provider: the binding moves with a migration; no stale answer', async () => {
  const l = lab();
  const [a, b] = [vmOn('h1'), vmOn('h2')];
  await migrateVm(l, b.name, 'h3');
  const moved = l.vm(b.name);
  assert.equal(moved.host, 'h3');
  await sup.waitPublished(l, VNI, moved, b.address, 'h3');
  await waitFor('h1 places the MAC behind its vxlan port at h3', async () => {
    const fdb = (await run(['bridge', '-n', l.host('h1').netns, 'fdb', 'show', 'dev', `dvsvx${VNI}`])).stdout;
    return fdb.includes(`${b.mac.toLowerCase()} dst ${l.host('h3').underlayAddress} `);
  });
  await sup.flushNeighbours(l, a);
  const crossed = await sup.countOnUnderlay(l, 'h1', a, ARP_REQUEST_FOR(b.address), async () => {
    assert.ok(await sup.ping(l, a, b.address), `${a.name} reaches ${b.name} at its new host`);
  });
  assert.equal(crossed, 0, 'answered from the binding that moved');
  await sup.assertResolved(l, a, b.address, b.mac);
  // h3 had the MAC behind its vxlan port (towards h2): that entry goes once the MAC is local there.
  await waitFor("h3's vxlan device forgets the MAC that came to h3", async () => {
    const fdb = (await run(['bridge', '-n', l.host('h3').netns, 'fdb', 'show', 'dev', `dvsvx${VNI}`])).stdout;
    return !fdb.toLowerCase().includes(`${b.mac.toLowerCase()} dst `);
  });
  await waitForCleanAudit(l, 3, 'a clean audit after the migration');
});

const ATTACKER_MAC = '52:54:00:aa:00:01';
const ATTACKER_IP = '10.99.0.1';

function frameFrom(src: string): Buffer {
  const f = Buffer.alloc(60, 0);
  writeMac(f, 0, parseMac('ff:ff:ff:ff:ff:ff') as number);
  writeMac(f, 6, parseMac(src) as number);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

async function nftTable(host: string): Promise<string | null> {
  const r = await run(['ip', 'netns', 'exec', lab().host(host).netns, 'nft', 'list', 'table', 'bridge', 'dvs'], {
    allowFailure: true,
  });
  return r.code === 0 ? r.stdout : null;
}

test('port security on the kernel provider: a spoofed MAC and a spoofed ARP are dropped by nft and counted; the victims keep working', async () => {
  const l = lab();
  const h1 = l.host('h1');
  const [a, c] = [vmOn('h1'), vmOn('h3')];
  const name = `${l.id}atk`.slice(0, 15);
  const wire = `${l.id}atv`.slice(0, 15);
  await run(['ip', '-n', h1.netns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', wire]);
  await run(['ip', '-n', h1.netns, 'link', 'set', wire, 'up']);
  const counters = async (): Promise<CountersSnapshot> =>
    (await l.admin('h1').call('counters/show')).data as CountersSnapshot;
  await l.admin('h1').call('ports/add', [name, String(VNI), 'attach', `allow=${ATTACKER_MAC},${ATTACKER_IP}`]);
  const port = new RawPort(h1.netns, wire);
  try {
    const table = await nftTable('h1');
    assert.ok(table?.includes(`iifname "${name}"`), `dvs's nft table jumps to the port's chain:\n${table}`);
    const before = await counters();
    for (let i = 0; i < 5; i++) port.send(frameFrom(a.mac));
    port.send(buildGratuitousArp(parseMac(ATTACKER_MAC) as number, parseIpv4Address(c.address) as number));
    const after = await waitFor('the drops are counted', async () => {
      const x = await counters();
      return x.portSecurity[name]?.portSecurity === 5 && x.portSecurity[name]?.arpSpoof === 1 ? x : undefined;
    });
    assert.equal(after.drops['port-security'] - before.drops['port-security'], 5);
    assert.equal(after.drops['arp-spoof'] - before.drops['arp-spoof'], 1);
    // The spoofed MAC stays on its own port; the spoofed IP keeps its MAC in the bridge's neighbour table.
    await waitVmPing(l, c, a, 'the spoofed VM is still reached');
    await waitVmPing(l, a, c, 'the VM whose IP was claimed still answers');
    const { data } = await l.admin('h1').call('fdb/show', [String(VNI)]);
    assert.equal(data.find((e) => e.mac === a.mac)?.location, a.ifname, 'the spoofed MAC stays on its own port');
    assert.equal((await bridgeNeighbour('h1', c.address))?.lladdr, c.mac, 'the claimed IP keeps its MAC');
    const shown = (await l.admin('h1').call('ports/show')).text;
    assert.match(shown, new RegExp(`${name}: security: allow=${ATTACKER_MAC},${ATTACKER_IP}`));
    assert.match(shown, new RegExp(`${name}: dropped: port-security 5, arp-spoof 1`));
  } finally {
    port.close();
    await l.admin('h1').call('ports/del', [name]);
    await run(['ip', '-n', h1.netns, 'link', 'del', name]);
  }
  assert.equal(await nftTable('h1'), null, 'the table goes with the last secured port');
});
