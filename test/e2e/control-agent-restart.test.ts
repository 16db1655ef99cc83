// Agent restart (issue 5's proof): one host's agent is SIGKILLed and started
// again from the same config, with no step in between. It registers again,
// its tables come back from etcd (networks, flood lists, the remote VMs' FDB
// entries, marked as the controller's), and its VM pings the VMs of the other
// hosts again; the dead agent's leftovers leave the tables with its old lease
// while the host stays up.
//
// The namespace lab gives three dvs hosts (h1..h3, one lab VM each in VNI 100)
// with etcd and a controller. The VM that survives the restart on h1 is
// plugged as QEMU leaves a guest while its switch restarts: a persistent TAP
// in the host namespace, adopted by name (`plug: adopt` in the agent's
// config), bridged to the VM's veth (test/support/lab-vms.ts says why it
// cannot be the TAP itself). h1's lab VM has a TAP the agent created: that
// one goes with the agent, as docs/agent.md says.
//
// No timing thresholds in assertions; waits fail after generous deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { labControllerClient, type ControllerClient } from '@dvs/lab';
import { NetnsLab } from '../support/netns-lab.js';
import { AGENT_MAIN } from '../support/agent-process.js';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';
import { attachVmBehindPersistentTap, waitPidExit, waitVmPing, type PersistentTapVm } from '../support/lab-vms.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
let survivor: PersistentTapVm | null = null;
/** Holds the restarted agent's process (stopped by pid before the lab goes down). */
const restarted = new NetnsLab('dvr');
const lab = useLab(
  { hosts: 3, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: VNI, encap: 'vxlan' }] },
  {
    afterUp: async (l) => {
      survivor = await attachVmBehindPersistentTap(l, { number: 9, host: 'h1', vni: VNI, subnet: 0 });
      // The port goes into h1's config, where an operator (or a libvirt hook) keeps
      // it, and into the running agent at run time: both adopt the same TAP.
      const h1 = l.host('h1');
      const config = JSON.parse(await readFile(h1.configFile!, 'utf8')) as Record<string, unknown>;
      config.ports = [{ name: survivor.tap, vni: VNI, plug: 'adopt' }];
      await writeFile(h1.configFile!, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
      await l.admin('h1').call('ports/add', [survivor.tap, String(VNI), 'adopt']);
    },
    beforeDown: () => restarted.cleanup(),
  },
);

interface FdbEntry {
  vni: number;
  mac: string;
  host: string | null;
  seq: number;
  moves: number;
}
interface HostView {
  host: string;
  state: string;
  startedAt: number;
  ports: { port: string }[];
}
interface AgentFdbRow {
  mac: string;
  kind: 'port' | 'vtep';
  location: string;
  control: boolean;
}
interface AgentPeerRow {
  address: string;
  floodVnis: number[];
}

function controller(): ControllerClient {
  assert.ok(lab().state.controller?.socketPath, 'the lab has a controller');
  return labControllerClient(lab().state);
}

async function controllerEntry(mac: string): Promise<FdbEntry | undefined> {
  const res = await controller().send('GET', `/v1/fdb?vni=${VNI}&mac=${mac}`);
  return (res.body as { entries: FdbEntry[] }).entries[0];
}

async function hostView(name: string): Promise<HostView> {
  const res = await controller().send('GET', `/v1/hosts/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { host: HostView }).host;
}

test('agent SIGKILLed and started again from the same config: registers, tables back from etcd, its VM pings again', async (t) => {
  const l = lab();
  const p = survivor!.vm;
  const lost = l.state.vms.find((v) => v.host === 'h1' && v !== p)!;
  const remote = l.state.vms.filter((v) => v.host !== 'h1');
  const h1 = l.host('h1');
  const mac = p.mac.toLowerCase();

  // Before: every VM reaches every other (so every MAC is reported), the controller places p at h1.
  for (const from of [p, lost, ...remote]) {
    for (const to of [p, lost, ...remote]) if (from !== to) await waitVmPing(lab(), from, to, 'before the restart');
  }
  const before = await waitFor('controller has p at h1', async () => {
    const e = await controllerEntry(mac);
    return e?.host === 'h1' ? e : undefined;
  });
  const registered = await hostView('h1');
  assert.equal(registered.state, 'up');

  // SIGKILL: no clean stop, the lease stays until its TTL runs out.
  const agent = l.state.processes.find((x) => x.role === 'agent' && x.name === 'h1')!;
  process.kill(agent.pid, 'SIGKILL');
  await waitPidExit(agent.pid);
  // The TAP the agent created went with its file descriptor; the persistent one stays.
  await waitFor(`${lost.name}'s agent-created TAP gone`, async () => {
    const r = await run(['ip', '-n', lost.netns, 'link', 'show', lost.ifname], { allowFailure: true });
    return r.code !== 0;
  });
  await run(['ip', '-n', h1.netns, 'link', 'show', survivor!.tap]);

  // Started again from the same file, nothing else done.
  const restartedAt = Date.now();
  restarted.spawn(h1.netns, [process.execPath, AGENT_MAIN, '--config', h1.configFile!], agent.logFile);
  await waitFor(
    'restarted agent answers',
    async () => (await l.admin('h1').call('version', [], { timeoutMs: 1000 })) && true,
    15_000,
  );

  // It registered again: a new start time on a live host record.
  const again = await waitFor(
    'h1 registered again',
    async () => {
      const h = await hostView('h1');
      return h.state === 'up' && h.startedAt > registered.startedAt ? h : undefined;
    },
    20_000,
  );
  assert.ok(again.ports.some((x) => x.port === survivor!.tap));

  // Its tables came from etcd: the remote VMs' MACs as controller entries at
  // their hosts' VTEPs, the other hosts in VNI 100's flood list — all before p
  // sent a frame since the restart.
  for (const vm of remote) {
    const vtep = l.host(vm.host).underlayAddress;
    await waitFor(`h1 FDB has ${vm.name} at ${vm.host} from etcd`, async () => {
      const { data } = await l.admin('h1').call('fdb/show', [String(VNI)]);
      const row = (data as AgentFdbRow[]).find((r) => r.mac === vm.mac.toLowerCase());
      return row?.kind === 'vtep' && row.control && row.location.startsWith(`${vtep}:`);
    });
  }
  // The flood list is an etcd key of its own: h1 may apply it a moment after the FDB entries.
  for (const vm of remote) {
    const address = l.host(vm.host).underlayAddress;
    await waitFor(`${vm.host} in h1's flood list for ${VNI}`, async () => {
      const { data: peers } = await l.admin('h1').call('peers/show');
      const peer = (peers as AgentPeerRow[]).find((x) => x.address === address);
      return peer?.floodVnis.includes(VNI) === true;
    });
  }
  const { data: ports } = await l.admin('h1').call('ports/show');
  assert.deepEqual(
    (ports as { name: string }[]).map((x) => x.name),
    [survivor!.tap],
  );

  // And p reaches every remote VM again, both ways.
  for (const vm of remote) {
    await waitVmPing(lab(), p, vm, 'after the restart');
    await waitVmPing(lab(), vm, p, 'after the restart');
  }
  t.diagnostic(`p pings every remote VM both ways ${Date.now() - restartedAt} ms after the agent was started again`);
  // p never left h1: the re-report carries the table's seq, no move counted.
  const after = await waitFor('controller has p at h1 after the restart', async () => {
    const e = await controllerEntry(mac);
    return e?.host === 'h1' ? e : undefined;
  });
  assert.equal(after.seq, before.seq);
  assert.equal(after.moves, before.moves);

  // The dead agent's lease runs out: its leftovers (the created TAP's port, the
  // lost VM's MAC) leave the tables; the host, its adopted port and p stay.
  await waitFor(
    "the old lease's port gone from h1",
    async () => {
      const h = await hostView('h1');
      return h.ports.length === 1 && h.ports[0]!.port === survivor!.tap;
    },
    30_000,
  );
  await waitFor(
    `${lost.name}'s MAC gone from the controller FDB`,
    async () => (await controllerEntry(lost.mac.toLowerCase())) === undefined,
    30_000,
  );
  const settled = await hostView('h1');
  assert.equal(settled.state, 'up');
  assert.equal(settled.startedAt, again.startedAt);
  assert.equal((await controllerEntry(mac))?.host, 'h1');
  for (const vm of remote) await waitVmPing(lab(), vm, p, 'after the old lease expired');
});
