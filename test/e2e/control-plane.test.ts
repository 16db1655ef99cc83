// The control plane end to end in the namespace lab: three dvs hosts whose
// agents follow etcd (no static peers), one controller, a real etcd, two
// networks (VNI 100 over VXLAN, VNI 200 over GRE-in-UDP). The agents run
// `datapath: kernel`: VNI 100 is served by the kernel provider (Linux bridge +
// vxlan), VNI 200 by the userspace pipeline (no FOU in this kernel), so each
// case below runs on both providers in one lab.
//  - The hosts converge from etcd alone: every VM pings every VM of its VNI.
//  - etcd stopped for 30 s: a continuous 10 ms ping between known MACs, one
//    per provider, loses at most 1 % of what it sent meanwhile (the kernel's
//    FDB and the pipeline's cached tables), each agent logs the outage once;
//    after etcd returns the agents resync and nothing is lost (the
//    controller's FDB still has every VM at its host).
//  - An agent SIGKILLed: its host leaves the controller's flood list and FDB
//    and the other agents' flood lists within its lease TTL.
// No timing thresholds in assertions; waits fail after generous timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ContinuousPing, labControllerClient, pingLoss, type ControllerClient, underlayNamespace } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { vmPings, waitPidExit } from '../support/lab-vms.js';
import { THREE_HOSTS_VXLAN_AND_GRE, useLab } from '../support/use-lab.js';

let ownEtcd: ChildProcess | null = null;
const VNI = 100;
const GRE_VNI = 200;
/** How long etcd stays away. */
const OUTAGE_MS = 30_000;

// VNI (100) over VXLAN, GRE_VNI (200) over GRE-in-UDP; the etcd this file starts again is stopped before the lab goes.
const lab = useLab(
  { ...THREE_HOSTS_VXLAN_AND_GRE, datapath: 'kernel' },
  {
    beforeDown: async () => {
      if (ownEtcd !== null && ownEtcd.exitCode === null && ownEtcd.pid !== undefined) {
        const exited = new Promise((r) => ownEtcd!.once('exit', r));
        process.kill(ownEtcd.pid, 'SIGKILL');
        await exited;
      }
    },
  },
);

/** Which provider serves each network on a host (its agent's networks/show). */
async function providerOf(host: string): Promise<Map<number, string>> {
  const { data } = await lab().admin(host).call('networks/show');
  return new Map(data.map((n) => [n.vni, n.provider]));
}

function controller(): ControllerClient {
  assert.ok(lab().state.controller?.socketPath, 'the lab has a controller');
  return labControllerClient(lab().state);
}

interface FdbView {
  entries: { vni: number; mac: string; host: string | null; vtep: { address: string; port: number } }[];
}
interface FloodView {
  floodLists: { vni: number; members: { address: string; host: string | null }[] }[];
}

/** waitFor, and on a timeout what the lab and the controller hold (to tell a slow host from a wrong table). */
async function waitOrExplain<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  try {
    return await waitFor(what, probe, timeoutMs, 100);
  } catch (err) {
    const fdb = await controller()
      .send('GET', `/v1/fdb?vni=${VNI}`)
      .catch((e: Error) => ({ body: e.message }));
    const vms = lab()
      .state.vms.map((v) => `${v.name}@${v.host} ${v.mac}`)
      .join(', ');
    throw new Error(`${(err as Error).message} (VMs: ${vms}; controller FDB: ${JSON.stringify(fdb.body)})`);
  }
}

const pings = (from: string, to: string): Promise<boolean> => vmPings(lab(), lab().vm(from), lab().vm(to));

async function everyVmAtItsHost(): Promise<true | undefined> {
  const res = await controller().send('GET', '/v1/fdb');
  const entries = (res.body as FdbView).entries;
  for (const vm of lab().state.vms) {
    if (entries.find((e) => e.vni === vm.vni && e.mac === vm.mac.toLowerCase())?.host !== vm.host) return undefined;
  }
  return true;
}

/** Ordered pairs of VMs in the same VNI. */
function sameVniPairs(): [string, string][] {
  const vms = lab().state.vms;
  return vms.flatMap((a) =>
    vms.filter((b) => b !== a && b.vni === a.vni).map((b): [string, string] => [a.name, b.name]),
  );
}

test('hosts converge from etcd alone: no static peers, every VM reaches every VM of its VNI (VXLAN and GRE-in-UDP)', async () => {
  assert.equal(lab().state.agentsUseEtcd, true, lab().state.limitations.join('; '));
  for (const host of lab().state.hosts) {
    const config = parseYaml(await readFile(host.configFile!, 'utf8')) as {
      networks: { peers?: string[] }[];
      etcd?: unknown;
    };
    assert.ok(config.etcd, `${host.name} follows etcd`);
    assert.deepEqual(
      config.networks.flatMap((n) => n.peers ?? []),
      [],
      `${host.name} has static peers`,
    );
  }
  for (const [a, b] of sameVniPairs()) {
    await waitOrExplain(`${a} → ${b}`, () => pings(a, b), 10_000);
  }
  // The VMs have spoken: every agent reported its VMs, the leader placed each at its host.
  await waitOrExplain('controller FDB has every VM at its host', everyVmAtItsHost, 20_000);
  // The GRE-in-UDP network's entries point at the hosts' GRE-in-UDP port.
  const gre = await controller().send('GET', `/v1/fdb?vni=${GRE_VNI}`);
  const grePorts = new Set((gre.body as FdbView).entries.map((e) => e.vtep.port));
  assert.deepEqual([...grePorts], [4754]);
});

test('etcd stopped for 30 s: a 10 ms ping loses at most 1 %, the outage is logged once, agents resync after', async (t) => {
  const l = lab();
  const etcdProc = l.state.processes.find((p) => p.role === 'etcd');
  assert.ok(etcdProc, 'the lab runs etcd');
  const argv = (await readFile(`/proc/${etcdProc.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  // One ping per provider: VNI 100 on the kernel's tables, VNI 200 on the userspace pipeline's.
  const providers = await providerOf('h1');
  assert.deepEqual([providers.get(VNI), providers.get(GRE_VNI)], ['kernel', 'userspace']);
  const pingsIn = [VNI, GRE_VNI].map((vni) => {
    const a = l.state.vms.find((v) => v.host === 'h1' && v.vni === vni)!;
    const b = l.state.vms.find((v) => v.host === 'h2' && v.vni === vni)!;
    return { vni, ping: new ContinuousPing(a.netns, b.address, 10) };
  });
  let downAt = 0;
  let upAt = 0;
  try {
    for (const { ping } of pingsIn) await ping.waitForReplies(20, 10_000);
    const exited = waitPidExit(etcdProc.pid);
    process.kill(etcdProc.pid, 'SIGTERM');
    await exited;
    downAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    upAt = Date.now();
    // etcd back, same data directory and addresses.
    const log = await import('node:fs').then((fs) => fs.openSync(etcdProc.logFile, 'a'));
    ownEtcd = spawn('ip', ['netns', 'exec', underlayNamespace(l.id), ...argv], { stdio: ['ignore', log, log] });
    await waitOrExplain('controller sees every VM again', everyVmAtItsHost, 30_000);
  } finally {
    for (const { ping } of pingsIn) await ping.stop();
  }
  // Every echo request sent while etcd was away, answered or not (a blackout with no
  // reply after it counts too): the data path forwards on its cached tables.
  for (const { vni, ping } of pingsIn) {
    const { sent, lost } = pingLoss(ping, downAt, upAt);
    const provider = providers.get(vni);
    t.diagnostic(
      `${provider} provider (VNI ${vni}), 10 ms ping through ${OUTAGE_MS / 1000} s without etcd: ${lost} of ${sent} lost`,
    );
    assert.ok(sent >= 1000, `${provider}: the ping ran through the outage (${sent} sent)`);
    assert.ok(lost <= sent * 0.01, `${provider}: at most 1 % lost while etcd was away: ${lost} of ${sent}`);
  }
  for (const agent of l.state.processes.filter((p) => p.role === 'agent')) {
    const text = await waitOrExplain(
      `${agent.name} logs etcd back`,
      async () => {
        const t = await readFile(agent.logFile, 'utf8');
        return /etcd reachable again/.test(t) ? t : undefined;
      },
      30_000,
    );
    const outages = text.split('\n').filter((line) => line.includes('etcd unreachable')).length;
    assert.equal(outages, 1, `${agent.name} logged the outage ${outages} times`);
  }
  for (const [x, y] of sameVniPairs()) {
    await waitOrExplain(`${x} → ${y} after the outage`, () => pings(x, y), 10_000);
  }
});

test('an agent SIGKILLed leaves every table within its lease TTL', async () => {
  const l = lab();
  const victim = l.state.hosts.find((h) => h.name === 'h3')!;
  const proc = l.state.processes.find((p) => p.role === 'agent' && p.name === 'h3')!;
  const vm = l.state.vms.find((v) => v.host === 'h3' && v.vni === VNI)!;
  const inFlood = async (): Promise<boolean> => {
    const res = await controller().send('GET', `/v1/flood?vni=${VNI}`);
    return (res.body as FloodView).floodLists[0]!.members.some((m) => m.address === victim.underlayAddress);
  };
  await waitOrExplain('h3 in the flood list', async () => ((await inFlood()) ? true : undefined), 10_000);
  const exited = waitPidExit(proc.pid);
  process.kill(proc.pid, 'SIGKILL');
  await exited;
  await waitOrExplain(
    'h3 out of the controller flood list',
    async () => ((await inFlood()) ? undefined : true),
    20_000,
  );
  await waitOrExplain(
    'h3 VM MAC out of the controller FDB',
    async () => {
      const res = await controller().send('GET', `/v1/fdb?vni=${VNI}&mac=${vm.mac.toLowerCase()}`);
      return (res.body as FdbView).entries.length === 0 ? true : undefined;
    },
    10_000,
  );
  const hosts = await controller().send('GET', '/v1/hosts');
  const h3 = (hosts.body as { hosts: { host: string; state: string }[] }).hosts.find((h) => h.host === 'h3');
  assert.equal(h3?.state, 'down');
  // The surviving agents dropped h3 from their flood list too.
  const { data } = await l.admin('h1').call('peers/show');
  assert.doesNotMatch(JSON.stringify(data), new RegExp(`"${victim.underlayAddress.replaceAll('.', '\\.')}[:"]`));
  // h1 and h2 still reach each other.
  const x = l.state.vms.find((v) => v.host === 'h1' && v.vni === VNI)!;
  const y = l.state.vms.find((v) => v.host === 'h2' && v.vni === VNI)!;
  assert.ok(await pings(x.name, y.name));
});
