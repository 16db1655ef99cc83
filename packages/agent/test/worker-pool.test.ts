import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LabNamespace, runTcpTransfer, vethAcross } from '@dvs/netdev/testing';
import { VXLAN_UDP_PORT } from '@dvs/wire';
import { WorkerPool } from '../src/workers/index.js';
import type { TableChange } from '../src/datapath/control-surface.js';

// Two hosts (namespaces, a veth underlay), each switching with a pool of two
// data-path workers on a multi-queue TAP and two SO_REUSEPORT tunnel sockets;
// a "VM" namespace behind each TAP. TCP flows cross with every byte intact,
// and every worker on each host carried frames.

const tag = `dvw${process.pid % 100000}`;
const VNI = 100;
const TAP = `${tag}t`;
const HOSTS = ['198.51.100.1', '198.51.100.2'] as const;
const VMS = ['192.0.2.1', '192.0.2.2'] as const;
const namespaces: LabNamespace[] = [];
const pools: WorkerPool[] = [];

before(() => {
  for (const role of ['ha', 'hb', 'va', 'vb']) namespaces.push(new LabNamespace(`${tag}${role}`));
});

after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  for (const ns of namespaces.reverse()) ns.dispose();
});

test('a pool that cannot start says why, with a stable code, and leaves nothing behind', async () => {
  const [ha] = namespaces;
  const setup = {
    netns: ha.name,
    tap: { name: `${tag}x`, vni: VNI, mtu: 1450, offloads: false },
    tunnel: {
      encap: 'vxlan' as const,
      address: '203.0.113.77',
      port: VXLAN_UDP_PORT,
      sourcePorts: null,
      receiveOffload: false,
    },
  };
  await assert.rejects(WorkerPool.start({ ...setup, workers: 0 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DVS_BAD_ARGUMENT');
    assert.match(err.message, /workers must be 1\.\.16, got 0/);
    return true;
  });
  // 203.0.113.77 is on no device of the namespace: worker 0 opens its TAP queue, then cannot bind.
  await assert.rejects(WorkerPool.start({ ...setup, workers: 2 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DVS_ADDRESS_UNAVAILABLE');
    assert.match(err.message, /worker 0 could not start/);
    return true;
  });
  assert.doesNotMatch(ha.ip('link', 'show'), new RegExp(`${tag}x`), 'the TAP went with its last queue');
});

test('two workers per host: TCP flows arrive intact, and every worker carried frames', async () => {
  const [ha, hb, va, vb] = namespaces;
  vethAcross(ha, hb); // 198.51.100.1 and .2: HOSTS
  for (const [i, host] of [ha, hb].entries()) {
    const pool = await WorkerPool.start({
      workers: 2,
      netns: host.name,
      tap: { name: TAP, vni: VNI, mtu: 1450, offloads: true },
      tunnel: {
        encap: 'vxlan',
        address: HOSTS[i],
        port: VXLAN_UDP_PORT,
        // One range every worker binds: a flow leaves from one port whichever worker sends it.
        sourcePorts: { min: 49152, max: 49167 },
        receiveOffload: true,
      },
    });
    pools.push(pool);
    const peer = [{ address: HOSTS[1 - i], port: VXLAN_UDP_PORT }];
    const changes: TableChange[] = [
      { kind: 'network:set', network: { vni: VNI, encap: 'vxlan', mtu: 1450 } },
      { kind: 'flood:set', vni: VNI, vteps: peer },
      { kind: 'peers:set', vni: VNI, vteps: peer },
    ];
    const results = await pool.apply(changes);
    assert.deepEqual(results, [
      { applied: 3, rejected: [] },
      { applied: 3, rejected: [] },
    ]);
    // The TAP goes into the "VM", as a hypervisor takes it; the workers' queues stay attached.
    const vm = [va, vb][i];
    host.ip('link', 'set', TAP, 'netns', vm.name);
    vm.ip('link', 'set', TAP, 'address', `02:00:00:00:0b:0${i + 1}`, 'mtu', '1450');
    vm.ip('addr', 'add', `${VMS[i]}/24`, 'dev', TAP);
    vm.ip('link', 'set', TAP, 'up');
  }
  const flows = 4;
  const transfers = await Promise.all(
    Array.from({ length: flows }, (_, k) =>
      runTcpTransfer({ from: va.name, to: vb.name, address: VMS[1], port: 5301 + k, bytes: 2 << 20 }),
    ),
  );
  for (const t of transfers) {
    assert.equal(t.received.bytes, 2 << 20);
    assert.equal(t.received.sha256, t.sent.sha256);
  }
  // 40 more flows (a datagram each, its own source port): both queues and both sockets of each host
  // get some (the odds that 40 flows all hash to one worker are about 2^-39 at the TAP, 2^-15 at the sockets).
  const script = `for i in $(seq 40); do echo flow$i > /dev/udp/${VMS[1]}/7777; done`;
  execFileSync('ip', ['netns', 'exec', va.name, 'bash', '-c', script]);
  await new Promise((r) => setTimeout(r, 200));
  for (const [i, pool] of pools.entries()) {
    const counters = await pool.counters();
    assert.equal(counters.length, 2);
    for (const c of counters) {
      const carried = c.tapReads + c.tunnelPacketsReceived;
      assert.ok(carried > 0, `host ${i} worker ${c.index} carried nothing: ${JSON.stringify(c)}`);
      assert.equal(c.dataPath.internalErrors, 0);
    }
  }
});
