// Controller failover (issue 5's proof): two dvs-controller replicas on one
// etcd, real agents and VMs in the namespace lab. The leader is SIGKILLed
// under a continuous 10 ms ping between VMs on two hosts, which must lose at
// most 1 % (the data path does not wait for a controller); the standby takes
// over, and through it a network created afterwards
// carries traffic between VMs on different hosts, and a MAC move in it lands
// in the new leader's FDB while traffic follows the VM.
//
// The lab runs etcd and one controller (`lab-<id>`, on the underlay, reached
// through the lab's unix-socket forwarder); this file starts the second
// replica in the same underlay namespace with its API on a unix socket. The
// first to campaign leads; which one that is is read from /healthz, not
// assumed. The killed leader's election lease runs out after its TTL (10 s),
// then the standby leads.
//
// No timing thresholds in assertions; waits fail after generous deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  ContinuousPing,
  ControllerClient,
  labControllerClient,
  migrateVm,
  pingLoss,
  underlayNamespace,
} from '@dvs/lab';
import { NetnsLab } from '../support/netns-lab.js';
import { CONTROLLER_MAIN } from '../support/controller-process.js';
import { waitFor } from '@dvs/test-support';
import { attachVmToAgent, waitPidExit, waitVmPing } from '../support/lab-vms.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
const NEW_VNI = 300;

/** Holds the second controller replica (stopped by pid before the lab goes down). */
const extra = new NetnsLab('dvr');

interface Replica {
  id: string;
  client: ControllerClient;
  /** Its API as the lab state records it, and the unix socket that reaches it. */
  url: string;
  socketPath: string;
  /** Its process: the lab's recorded one, or the one this file started. */
  pid: number;
}
const replicas: Replica[] = [];

const lab = useLab(
  { hosts: 3, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: VNI, encap: 'vxlan' }] },
  {
    afterUp: async (l) => {
      const first = l.state.processes.find((p) => p.role === 'controller')!;
      const firstSocket = l.state.controller!.socketPath!;
      replicas.push({
        id: `lab-${l.id}`,
        client: labControllerClient(l.state),
        url: l.state.controller!.url,
        socketPath: firstSocket,
        pid: first.pid,
      });

      const dir = await extra.tempDir();
      const socketPath = join(dir, 'standby.sock');
      const api = l.state.controller!.api!;
      const id = `standby-${l.id}`;
      const child = extra.spawn(
        underlayNamespace(l.id),
        [
          process.execPath,
          CONTROLLER_MAIN,
          '--etcd',
          l.state.etcd!.endpoints.join(','),
          '--listen',
          socketPath,
          '--id',
          id,
          // The same API certificate and tokens as the lab's own controller (TLS through the unix socket).
          ...['--tls-cert', api.serverCert, '--tls-key', api.serverKey, '--api-tokens', api.tokensFile],
        ],
        join(dir, 'standby.log'),
      );
      const client = new ControllerClient(l.state.controller!.url, {
        socketPath,
        ca: readFileSync(api.ca),
        token: readFileSync(api.adminTokenFile, 'utf8').trim(),
      });
      await waitFor(
        'second controller healthy',
        async () => {
          if (child.exitCode !== null) throw new Error(`second controller exited ${child.exitCode}; log in ${dir}`);
          return client.health(1000).then(
            (h) => h.status === 'ok',
            () => false,
          );
        },
        20_000,
        100,
      );
      replicas.push({ id, client, url: `unix:${socketPath}`, socketPath, pid: child.pid! });
    },
    beforeDown: () => extra.cleanup(),
  },
);

interface Health {
  id: string;
  leader: boolean;
}
interface Status {
  controller: { id: string; leader: boolean; leaderId: string | null };
}
interface FdbEntry {
  mac: string;
  host: string | null;
  seq: number;
  moves: number;
}

async function health(r: Replica): Promise<Health> {
  return (await r.client.send('GET', '/healthz', undefined, 2000)).body as Health;
}

async function leaderIdSeenBy(r: Replica): Promise<string | null> {
  return ((await r.client.send('GET', '/v1/status')).body as Status).controller.leaderId;
}

async function entryAt(r: Replica, vni: number, mac: string): Promise<FdbEntry | undefined> {
  return (await r.client.fdb({ vni, mac })).find((e) => e.mac === mac) as FdbEntry | undefined;
}

test('two controllers: SIGKILL the leader, the standby leads; a new network and a MAC move in it propagate', async (t) => {
  const l = lab();
  // One leader, and both replicas name it.
  const leader = await waitFor('one leader that both replicas name', async () => {
    const states = await Promise.all(replicas.map(health));
    const leaders = replicas.filter((_, i) => states[i]!.leader);
    if (leaders.length !== 1) return undefined;
    const seen = await Promise.all(replicas.map(leaderIdSeenBy));
    return seen.every((id) => id === leaders[0]!.id) ? leaders[0] : undefined;
  });
  const standby = replicas.find((r) => r !== leader)!;
  const [a, b] = [l.vm('vm1'), l.vm('vm2')];
  await waitVmPing(lab(), a, b, 'before the failover');

  // Traffic between known MACs runs all through the failover: a 10 ms ping.
  const ping = new ContinuousPing(a.netns, b.address, 10);
  let killedAt = 0;
  let ledAt = 0;
  try {
    await ping.waitForReplies(20, 10_000);
    process.kill(leader.pid, 'SIGKILL');
    killedAt = Date.now();
    await waitPidExit(leader.pid);
    await waitFor(
      `${standby.id} leads`,
      async () => (await health(standby)).leader && (await leaderIdSeenBy(standby)) === standby.id,
      30_000,
      200,
    );
    ledAt = Date.now();
    // A second past the takeover, so the new leader's first reconciliation falls inside the window.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await ping.stop();
  }
  t.diagnostic(`${leader.id} SIGKILLed; ${standby.id} leads ${ledAt - killedAt} ms later (election TTL 10 s)`);
  const { sent, lost } = pingLoss(ping, killedAt, ledAt + 1000);
  t.diagnostic(`10 ms ping through the failover: ${lost} of ${sent} lost`);
  assert.ok(sent >= 100, `the ping ran through the failover (${sent} sent)`);
  assert.ok(lost <= sent * 0.01, `at most 1 % lost through the failover: ${lost} of ${sent}`);
  // The lab's own views (migration observers) follow the surviving replica: same URL and
  // credentials (the standby serves the lab's certificate and tokens), its socket.
  l.state.controller = { ...l.state.controller!, socketPath: standby.socketPath };
  await l.save();
  await waitVmPing(lab(), a, b, 'after the failover');

  // A network created through the new leader reaches every agent.
  const created = await standby.client.send('POST', '/v1/networks', {
    vni: NEW_VNI,
    name: 'after-failover',
    encap: 'vxlan',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const h of l.state.hosts) {
    await waitFor(`${h.name} has network ${NEW_VNI}`, async () => {
      const { data } = await l.admin(h.name).call('networks/show');
      return (data as { vni: number }[]).some((n) => n.vni === NEW_VNI);
    });
  }

  // VMs plugged into it on h1 and h2 reach each other across the hosts.
  const x = await attachVmToAgent(l, { number: 50, host: 'h1', vni: NEW_VNI, subnet: 1 });
  const y = await attachVmToAgent(l, { number: 51, host: 'h2', vni: NEW_VNI, subnet: 1 });
  await waitVmPing(lab(), x, y, 'in the new network');
  await waitVmPing(lab(), y, x, 'in the new network');
  // The new leader computed its table and flood list from the agents' reports.
  const xMac = x.mac.toLowerCase();
  const placed = await waitFor(`${standby.id} places ${x.name} at h1`, async () => {
    const e = await entryAt(standby, NEW_VNI, xMac);
    return e?.host === 'h1' ? e : undefined;
  });
  await waitFor(`${standby.id} places ${y.name} at h2`, async () => {
    return (await entryAt(standby, NEW_VNI, y.mac.toLowerCase()))?.host === 'h2';
  });
  // The flood list is recomputed from the ports apart from the FDB entries: read once it has both hosts.
  const floodHosts = async (): Promise<(string | null)[]> => {
    const flood = await standby.client.send('GET', `/v1/flood?vni=${NEW_VNI}`);
    const lists = (flood.body as { floodLists: { members: { host: string | null }[] }[] }).floodLists;
    return (lists[0]?.members ?? []).map((m) => m.host).sort();
  };
  const members = await waitFor(`${standby.id}'s flood list for ${NEW_VNI} has h1 and h2`, async () => {
    const hosts = await floodHosts();
    return hosts.length >= 2 ? hosts : undefined;
  });
  assert.deepEqual(members, ['h1', 'h2']);

  // x moves to h3 (QEMU-style, the lab's migration): the new leader records
  // the move with seq + 1, every agent follows, and so does traffic.
  const report = await migrateVm(l, x.name, 'h3', { timeoutMs: 15_000 });
  const moved = await waitFor(`${standby.id} places ${x.name} at h3`, async () => {
    const e = await entryAt(standby, NEW_VNI, xMac);
    return e?.host === 'h3' ? e : undefined;
  });
  assert.equal(moved.seq, placed.seq + 1);
  assert.equal(moved.moves, placed.moves + 1);
  assert.notEqual(report.agentsConvergedMs, null, JSON.stringify(report.observers));
  assert.notEqual(report.controllerConvergedMs, null, JSON.stringify(report.observers));
  assert.equal(report.flaps, 0);
  t.diagnostic(
    `move h1 → h3: agents converged in ${report.agentsConvergedMs} ms, the new leader in ${report.controllerConvergedMs} ms`,
  );
  await waitVmPing(lab(), y, x, 'after the move');
  await waitVmPing(lab(), x, y, 'after the move');
});
