// The kernel datapath (issue 17) end to end in the namespace lab: three dvs
// hosts whose agents run `datapath: kernel`, one plain kernel-vxlan host, a
// VXLAN network (served by Linux's bridge + vxlan devices the agents program)
// and a GRE-in-UDP network (no FOU in this kernel: it falls back to the
// userspace pipeline on the same hosts, and the views say why). Asserted:
// which provider serves what and why, the kernel devices and their mark,
// the ping matrix and isolation (interop with the plain kernel host
// included), trace explained from the kernel's tables, a live migration
// converging, and an agent killed with SIGKILL under a continuous ping: the
// kernel keeps forwarding while the agent is away, and the restarted agent
// adopts its devices; switched to userspace, the host's tunnels to a
// kernel-provider host come up both ways. `dvs networks show` says, for each
// host, which provider serves a network and why, also when a network asks for
// a provider a host cannot give it. No timing thresholds: lost pings are
// printed, not judged.
import { test } from 'node:test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ContinuousPing, migrateVm, runPingMatrix, renderPingMatrix, pingWindowFigures } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { NetnsLab } from '../support/netns-lab.js';
import { AGENT_MAIN } from '../support/agent-process.js';
import { run } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import { waitPidExit, waitVmPing } from '../support/lab-vms.js';
import { THREE_HOSTS_VXLAN_AND_GRE, useLab } from '../support/use-lab.js';

const restarted = new NetnsLab('dkr');
const lab = useLab(
  { ...THREE_HOSTS_VXLAN_AND_GRE, kernelHosts: 1, datapath: 'kernel' },
  { beforeDown: () => restarted.cleanup() },
);

interface NetworkRow {
  vni: number;
  provider: string;
  providerReason: string;
  ports: string[];
  flowExport: { sflow: boolean; ipfix: boolean };
}

async function links(netns: string): Promise<{ ifname: string; ifalias?: string; master?: string }[]> {
  return JSON.parse((await run(['ip', '-n', netns, '-d', '-j', 'link', 'show'])).stdout) as never;
}

test('VXLAN on the kernel provider, GRE-in-UDP falls back to userspace; each says why', async () => {
  const { data, text } = await lab().admin('h1').call('networks/show');
  const rows = data as NetworkRow[];
  const vx = rows.find((n) => n.vni === 100)!;
  const gre = rows.find((n) => n.vni === 200)!;
  assert.equal(vx.provider, 'kernel');
  assert.equal(vx.providerReason, 'agent datapath: kernel');
  assert.equal(gre.provider, 'userspace');
  assert.match(gre.providerReason, /gre-udp: this kernel has no FOU/);
  assert.match(text, /VNI 200 on userspace: gre-udp: this kernel has no FOU/);
  // The kernel provider exports no flows; the agent says so rather than leave it silent.
  assert.deepEqual(vx.flowExport, { sflow: false, ipfix: false });
  assert.deepEqual(gre.flowExport, { sflow: true, ipfix: true });
  // The kernel devices, marked as dvs's, with the VM's port in the bridge.
  const h1 = lab().host('h1');
  const all = await links(h1.netns);
  const bridge = all.find((l) => l.ifname === 'dvsbr100');
  const vxlan = all.find((l) => l.ifname === 'dvsvx100');
  assert.ok(bridge && vxlan, 'dvsbr100 and dvsvx100 exist');
  assert.match(bridge.ifalias ?? '', /^dvs:vni=100 role=bridge/);
  assert.equal(vxlan.master, 'dvsbr100');
  const vm = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 100)!;
  assert.equal(all.find((l) => l.ifname === vm.ifname)?.master, 'dvsbr100', 'the VM port is a bridge port');
  assert.deepEqual(vx.ports, [vm.ifname]);
  // Tunnel health: probes on their own UDP port between kernel-provider hosts; the plain kernel host is unmonitored.
  const tunnels = await waitFor(
    'h1 tunnels to h2 up on both networks',
    async () => {
      const { data: t } = await lab().admin('h1').call('tunnels/show');
      const peers = (t as { peers: { host?: string; vni: number; state: string; vtep: { address: string } }[] }).peers;
      const h2 = peers.filter((p) => p.host === 'h2');
      return h2.length === 2 && h2.every((p) => p.state === 'up') ? peers : undefined;
    },
    30_000,
  );
  const k1 = lab().host('k1');
  assert.ok(tunnels.filter((p) => p.vtep.address === k1.underlayAddress).every((p) => p.state === 'unmonitored'));
});

test('ping matrix on the kernel provider: reachable within a VNI (plain kernel host too), isolated across', async () => {
  const m = await runPingMatrix(lab());
  assert.ok(m.ok, renderPingMatrix(lab(), m));
  const kernelHostVm = lab().state.vms.find((v) => v.host === 'k1')!;
  const h1vm = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 100)!;
  const pair = (a: string, b: string) => m.results.find((r) => r.from === a && r.to === b)!;
  assert.equal(pair(kernelHostVm.name, h1vm.name).reached, true, 'plain kernel vxlan host -> kernel provider');
  assert.equal(pair(h1vm.name, kernelHostVm.name).reached, true, 'kernel provider -> plain kernel vxlan host');
  const other = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 200)!;
  assert.equal(pair(h1vm.name, other.name).reached, false, 'VNI 100 does not reach VNI 200');
});

test('remote MACs are static entries on the vxlan device, from the controller; trace reads the kernel', async () => {
  const h1 = lab().host('h1');
  const remote = lab().state.vms.find((v) => v.host === 'h2' && v.vni === 100)!;
  const fdb = (await run(['bridge', '-n', h1.netns, 'fdb', 'show', 'dev', 'dvsvx100'])).stdout;
  assert.match(fdb, new RegExp(`${remote.mac.toLowerCase()} dst 198\\.51\\.100\\.\\d+ .*self (static|permanent)`));
  assert.match(fdb, /00:00:00:00:00:00 dst 198\.51\.100\.\d+ .*self permanent/, 'flood list as all-zeros entries');
  const local = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 100)!;
  const { data } = await lab().admin('h1').call('trace', ['100', local.mac, remote.mac, local.ifname]);
  const report = data as { steps: { result: string }[]; decision: { action: string; outputs: { kind: string }[] } };
  assert.match(report.steps[0]!.result, /kernel datapath: explained from the kernel's bridge and vxlan FDB/);
  assert.equal(report.decision.action, 'encap');
  assert.equal(report.decision.outputs[0]!.kind, 'vtep');
});

test('a VM migrates between kernel-provider hosts under a 10 ms ping: every agent re-points it, no flap', async () => {
  const l = lab();
  const ping = new ContinuousPing(l.vm('vm5').netns, l.vm('vm1').address, 10);
  try {
    await ping.waitForReplies(20, 10_000);
    const report = await migrateVm(l, 'vm1', 'h2', { ping, holdMs: 500 });
    await ping.waitForReplies(ping.replies.length + 20, 10_000);
    console.log(
      `# kernel provider migration: lost ${report.ping?.lost} pings, longest gap ${report.ping?.longestGapMs} ms, agents converged ${report.agentsConvergedMs} ms, controller ${report.controllerConvergedMs} ms`,
    );
    for (const o of report.observers) assert.equal(o.final, 'h2', `${o.name} ends with the MAC at ${o.final}`);
    assert.equal(report.flaps, 0);
    assert.equal(report.oldHostHoldsMac, false);
    assert.ok(
      ping.replies.some((r) => r.atMs > report.switchoverAt + 100),
      'traffic followed the VM',
    );
  } finally {
    await ping.stop();
  }
});

test('agent SIGKILLed under a continuous ping: the kernel keeps forwarding; the restarted agent adopts its devices', async () => {
  const l = lab();
  const h3 = l.host('h3');
  const target = l.state.vms.find((v) => v.host === 'h3' && v.vni === 100)!;
  const pinger = l.state.vms.find((v) => v.host === 'k1')!;
  await waitVmPing(l, pinger, target, 'before the kill');
  const ifindexBefore = (await links(h3.netns)).find((x) => x.ifname === 'dvsvx100');
  assert.ok(ifindexBefore);
  const ping = new ContinuousPing(pinger.netns, target.address, 10);
  try {
    await ping.waitForReplies(20, 10_000);
    const agent = l.state.processes.find((x) => x.role === 'agent' && x.name === 'h3')!;
    const killedAt = Date.now();
    process.kill(agent.pid, 'SIGKILL');
    await waitPidExit(agent.pid);
    const atKill = ping.replies.length;
    // The agent is gone; the kernel still forwards on the last tables.
    await ping.waitForReplies(atKill + 50, 10_000);
    // Leftovers the restarted agent must clean: a marked device of a VNI no network names, entries no
    // table names; and a device of a dvs-like name without the mark, which is not ours to touch.
    await run(['ip', '-n', h3.netns, 'link', 'add', 'dvsbr999', 'type', 'bridge']);
    await run(['ip', '-n', h3.netns, 'link', 'set', 'dvsbr999', 'alias', 'dvs:vni=999 role=bridge']);
    await run(['ip', '-n', h3.netns, 'link', 'add', 'dvsbr998', 'type', 'bridge']);
    await run([
      'bridge',
      '-n',
      h3.netns,
      'fdb',
      'append',
      '00:00:00:00:00:00',
      'dev',
      'dvsvx100',
      'dst',
      '198.51.100.250',
    ]);
    await run([
      'bridge',
      '-n',
      h3.netns,
      'fdb',
      'add',
      '02:00:00:00:99:99',
      'dev',
      'dvsvx100',
      'dst',
      '198.51.100.251',
      'static',
    ]);
    const restartAt = Date.now();
    restarted.spawn(h3.netns, [process.execPath, AGENT_MAIN, '--config', h3.configFile!], agent.logFile);
    await waitFor(
      'restarted agent answers',
      async () => Boolean(await l.admin('h3').call('version', [], { timeoutMs: 1000 })),
      15_000,
    );
    // Adopted, not made again: the port is back in the view, the devices are the same.
    await waitFor(
      'restarted agent serves VNI 100 on the kernel with its port',
      async () => {
        const rows = (await l.admin('h3').call('networks/show')).data as NetworkRow[];
        const n = rows.find((r) => r.vni === 100);
        return n?.provider === 'kernel' && n.ports.includes(target.ifname);
      },
      20_000,
    );
    const after = ping.replies.length;
    await ping.waitForReplies(after + 100, 15_000);
    const w = pingWindowFigures(ping, killedAt - 1000, Date.now());
    console.log(
      `# kernel provider kill -9 + restart under a 10 ms ping: lost ${w.lost}, longest gap ${w.longestGapMs} ms, agent away ${restartAt - killedAt} ms before the restart`,
    );
    assert.ok(
      ping.replies.filter((r) => r.atMs > killedAt && r.atMs < restartAt).length >= 50,
      'replies while the agent was dead',
    );
  } finally {
    await ping.stop();
  }
  await waitFor('stale device and entries removed after the tables loaded', async () => {
    const names = (await links(h3.netns)).map((x) => x.ifname);
    const fdb = (await run(['bridge', '-n', h3.netns, 'fdb', 'show', 'dev', 'dvsvx100'])).stdout;
    return !names.includes('dvsbr999') && !fdb.includes('198.51.100.250') && !fdb.includes('02:00:00:00:99:99');
  });
  assert.ok(
    (await links(h3.netns)).some((x) => x.ifname === 'dvsbr998'),
    'an unmarked device is left alone',
  );
  const after = (await links(h3.netns)).find((x) => x.ifname === 'dvsvx100') as { ifindex?: number } | undefined;
  assert.equal(
    after?.ifindex,
    (ifindexBefore as { ifindex?: number }).ifindex,
    'the vxlan device was adopted, not made again',
  );
});

test('the host switched to userspace: the kernel devices of the earlier run go, its VM still reaches the others', async () => {
  const l = lab();
  const h3 = l.host('h3');
  const target = l.state.vms.find((v) => v.host === 'h3' && v.vni === 100)!;
  const pinger = l.state.vms.find((v) => v.host === 'h2' && v.vni === 100)!;
  // The agent restarted by the previous test is ours (NetnsLab): stop it, start the same config with datapath: userspace.
  await restarted.cleanup();
  await waitFor('h3 admin socket gone', async () => {
    try {
      await l.admin('h3').call('version', [], { timeoutMs: 300 });
      return false;
    } catch {
      return true;
    }
  });
  const config = JSON.parse(await readFile(h3.configFile!, 'utf8')) as Record<string, unknown>;
  const file = join(await restarted.tempDir(), 'h3-userspace.yaml');
  await writeFile(file, JSON.stringify({ ...config, datapath: 'userspace' }), { mode: 0o600 });
  restarted.spawn(
    h3.netns,
    [process.execPath, AGENT_MAIN, '--config', file],
    join(await restarted.tempDir(), 'h3.log'),
  );
  await waitFor(
    'h3 serves VNI 100 in userspace',
    async () => {
      try {
        const rows = (await l.admin('h3').call('networks/show', [], { timeoutMs: 1000 })).data as NetworkRow[];
        return rows.find((r) => r.vni === 100)?.provider === 'userspace';
      } catch {
        return false;
      }
    },
    20_000,
  );
  const names = (await links(h3.netns)).map((x) => x.ifname);
  assert.ok(!names.includes('dvsbr100') && !names.includes('dvsvx100'), `kernel devices left: ${names.join(' ')}`);
  await waitVmPing(l, pinger, target, 'after the switch to userspace (kernel provider on h2, userspace on h3)');
  // Tunnel health across the providers, both ways: the kernel host (h2) probes h3 on its VXLAN port from its
  // probe port; the userspace host (h3) probes h2 on the probe port h2 advertises in its host record.
  for (const [from, to] of [
    ['h2', 'h3'],
    ['h3', 'h2'],
  ] as const)
    await waitFor(
      `${from} sees its tunnel to ${to} up on VNI 100`,
      async () => {
        try {
          const { data: t } = await l.admin(from).call('tunnels/show', [], { timeoutMs: 1000 });
          const peers = (t as { peers: { host?: string; vni: number; state: string }[] }).peers;
          return peers.some((p) => p.host === to && p.vni === 100 && p.state === 'up');
        } catch {
          return false;
        }
      },
      30_000,
    );
});

interface DatapathRow {
  host: string;
  provider: string;
  reason: string;
  mismatch: boolean;
  flowExport: { sflow: boolean; ipfix: boolean };
}

/** `dvs networks show <vni> --json`: the exit status and, per host, the provider that serves the network and why. */
async function servedOn(vni: number): Promise<{ code: number; rows: Map<string, DatapathRow>; text: string }> {
  const r = await runDvs(['--lab', lab().id, 'networks', 'show', String(vni), '--json']);
  assert.ok(r.code === 0 || r.code === 1, `dvs networks show ${vni}: exit ${r.code}: ${r.stderr}`);
  const rows = (JSON.parse(r.stdout) as { datapaths: DatapathRow[] }).datapaths;
  const text = (await runDvs(['--lab', lab().id, 'networks', 'show', String(vni)])).stdout;
  return { code: r.code, rows: new Map(rows.map((x) => [x.host, x])), text };
}

async function agentReason(host: string, vni: number): Promise<string | undefined> {
  const rows = (await lab().admin(host).call('networks/show', [], { timeoutMs: 2000 })).data as NetworkRow[];
  return rows.find((r) => r.vni === vni)?.providerReason;
}

test('dvs networks show: each host, the provider that serves the network and why; a network datapath the host cannot honour is shown as such', async () => {
  // h2: agent datapath kernel; h3 was switched to userspace by the previous test (h1's VNI 100 VM moved away).
  const vx = await servedOn(100);
  assert.equal(vx.code, 0, vx.text);
  assert.deepEqual(
    ['h2', 'h3'].map((h) => [h, vx.rows.get(h)?.provider, vx.rows.get(h)?.reason]),
    [
      ['h2', 'kernel', 'agent datapath: kernel'],
      ['h3', 'userspace', 'agent datapath: userspace'],
    ],
    vx.text,
  );
  assert.match(vx.text, /h3\s+userspace\s+sflow,ipfix\s+agent datapath: userspace/);
  // The kernel provider exports no flows: shown, not silent.
  assert.deepEqual(vx.rows.get('h2')?.flowExport, { sflow: false, ipfix: false });
  assert.match(vx.text, /h2\s+kernel\s+none \(kernel: no flow export\)\s+agent datapath: kernel/);
  // GRE-in-UDP: userspace everywhere, the kernel here has no FOU.
  const gre = await servedOn(200);
  assert.ok(gre.rows.size >= 2, gre.text);
  for (const h of gre.rows.keys()) {
    assert.equal(gre.rows.get(h)?.provider, 'userspace', h);
    assert.match(gre.rows.get(h)!.reason, /gre-udp: this kernel has no FOU/, h);
  }
  assert.match(gre.text, /h2\s+userspace\s+sflow,ipfix\s+gre-udp: this kernel has no FOU/);
  // A GRE-in-UDP network cannot ask for the kernel: refused, naming the field, nothing changed.
  const refused = await runDvs(['--lab', lab().id, 'networks', 'update', '200', '--datapath', 'kernel']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /datapath/);
  assert.match(refused.stderr, /no FOU/);
  try {
    // VNI 100 asks for userspace: h3 honours it; the kernel hosts cannot (one UDP port, one owner) and say so.
    const set = await runDvs(['--lab', lab().id, 'networks', 'update', '100', '--datapath', 'userspace']);
    assert.equal(set.code, 0, set.stderr);
    const asked = await servedOn(100);
    assert.equal(asked.code, 1, 'a host that cannot serve the network as asked is a problem');
    assert.deepEqual(asked.rows.get('h3'), {
      host: 'h3',
      state: 'up',
      provider: 'userspace',
      reason: 'network datapath: userspace',
      mismatch: false,
      flowExport: { sflow: true, ipfix: true },
    });
    const h2 = asked.rows.get('h2')!;
    assert.equal(h2.provider, 'kernel');
    assert.equal(h2.mismatch, true);
    assert.match(
      h2.reason,
      /asks for the userspace datapath, but this host's VXLAN port belongs to the kernel provider/,
    );
    assert.match(h2.reason, /set the network's datapath to auto or kernel, or the agent's datapath to userspace/);
    assert.match(asked.text, /h2\s+kernel \(!\)/);
    // The agents themselves say the same (they apply the same rule to the network record).
    await waitFor('h2 agent reports the mismatch', async () => (await agentReason('h2', 100)) === h2.reason);
    await waitFor(
      'h3 agent honours the network',
      async () => (await agentReason('h3', 100)) === 'network datapath: userspace',
    );
  } finally {
    const back = await runDvs(['--lab', lab().id, 'networks', 'update', '100', '--datapath', 'auto']);
    assert.equal(back.code, 0, back.stderr);
  }
  await waitFor('h2 back on the owner', async () => (await agentReason('h2', 100)) === 'agent datapath: kernel');
});
