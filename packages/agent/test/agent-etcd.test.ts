/**
 * The agent wired to the control plane (startAgentEtcd), against a real etcd
 * and a real controller: two agents configured with nothing but etcd learn
 * the network, each other as flood-list peers and each other's MACs, and a
 * broadcast from one VM reaches the other; stopping revokes the lease.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '@dvs/controller';
import { waitFor } from '@dvs/test-support';
import { EtcdServer } from '@dvs/etcd/testing';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import { KeyLayout } from '@dvs/wire';
import { Etcd3 } from 'etcd3';
import { Agent, startAgentEtcd, validateConfig, silentLogger, type AgentEtcd } from '../src/index.js';
import { FakeKernel } from './fake-devices.js';
import { BROADCAST, frame, mac, settle } from './frames.js';

let etcd: EtcdServer;
let controller: Controller;
let client: Etcd3;
let dir: string;
const running: { agent: Agent; etcd: AgentEtcd | null }[] = [];
const net = new FakeUdpNetwork();

async function startAgent(host: string, address: string, kernel: FakeKernel): Promise<Agent> {
  const config = validateConfig({
    host,
    vtep: { address },
    adminSocket: join(dir, `${host}.sock`),
    stateFile: join(dir, `${host}-state.json`),
    ports: [{ name: `${host}-vm`, vni: 100 }],
    etcd: { endpoints: [etcd.endpoint], leaseTtlSeconds: 5, callTimeoutMs: 1000 },
    health: { intervalMs: 100 },
  });
  const agent = new Agent({ config, devices: kernel, adminSocket: false, dataPath: { agingTimer: false } });
  await agent.start();
  const wired = await startAgentEtcd(agent, silentLogger);
  running.push({ agent, etcd: wired });
  return agent;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dva-etcd-'));
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint });
  controller = await Controller.start({
    id: 'ctl',
    etcd: { endpoints: [etcd.endpoint] },
    listen: '127.0.0.1:0',
    api: { insecureLocal: true },
    electionTtlSeconds: 2,
  });
  await waitFor('controller leader', () => controller.isLeader);
  const res = await fetch(`${controller.address}/v1/networks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vni: 100, name: 'blue' }),
  });
  assert.equal(res.status, 201);
});

after(async () => {
  for (const r of running) {
    await r.etcd?.stop(true);
    await r.agent.stop();
  }
  client?.close();
  await controller?.stop();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('two agents configured only with etcd switch frames to each other', async () => {
  const kernelA = new FakeKernel(net);
  const kernelB = new FakeKernel(net);
  const a = await startAgent('host-a', '198.51.100.1', kernelA);
  const b = await startAgent('host-b', '198.51.100.2', kernelB);
  const keys = new KeyLayout();
  await waitFor(
    'hosts registered',
    async () =>
      (
        await client
          .getAll()
          .prefix(keys.prefix + 'hosts/')
          .keys()
      ).length === 2,
  );
  await waitFor('A floods VNI 100 to B', () =>
    a.dataPath.networkViews().find((n) => n.vni === 100 && n.floodList.includes('198.51.100.2:4789')),
  );
  await waitFor('B floods VNI 100 to A', () =>
    b.dataPath.networkViews().find((n) => n.vni === 100 && n.floodList.includes('198.51.100.1:4789')),
  );
  const vmA = mac('02:00:00:00:0a:01');
  kernelA.taps.get('host-a-vm')?.inject(frame(BROADCAST, vmA));
  await settle();
  assert.equal(kernelB.taps.get('host-b-vm')?.takeWritten().length, 1, 'the broadcast crossed');
  // A reports the MAC; the controller places it; B follows the authoritative FDB.
  await waitFor('B has the controller entry for A’s VM', () =>
    b.dataPath.fdbEntries(100).find((e) => e.mac === '02:00:00:00:0a:01' && e.location === '198.51.100.1:4789'),
  );
  const ports = await client
    .getAll()
    .prefix(keys.prefix + 'ports/host-a/')
    .keys();
  assert.equal(ports.length, 1, 'ports/host-a/<port> published');
});

test('stopping an agent revokes its lease: its host key is gone at once', async () => {
  const keys = new KeyLayout();
  const { agent, etcd: wired } = running[0];
  await wired?.stop(true);
  await agent.stop();
  await waitFor('host-a key deleted', async () => (await client.get(keys.host('host-a')).buffer()) === null, 3000);
});
