/**
 * `npm run demo`: 3 dvs hosts × 2 namespace VMs plus one kernel-vxlan host,
 * two networks (VNI 100 VXLAN with the kernel host as external VTEP, VNI 200
 * GRE-in-UDP), and one real QEMU VM on h1 (VNI 100) whose TAP the agent
 * attaches; the ping matrix of the namespace VMs; a continuous 10 ms ping
 * while the QEMU VM live-migrates for real to a third host and back, with the
 * migration report (pings lost during QEMU's downtime and beyond it);
 * ARP suppression switched on, with the broadcasts it saved; the top talkers
 * of the userspace network from h1's flow cache (`dvs flows`); `dvs tunnels` and `dvs fdb`;
 * teardown.
 * Exits non-zero when a step fails, and always tears down. Parts of dvs that
 * are not built yet are named, never faked.
 */
import { Lab } from './lab.js';
import { isLabError } from './errors.js';
import { randomLabId } from './lab-layout.js';
import { parsePingSummary, renderPingMatrix, runPingMatrix } from './ping-matrix.js';
import { ContinuousPing } from './continuous-ping.js';
import type { MigrationReport } from './migration.js';
import { migrateQemuVm } from './lab-qemu-migration.js';
import { renderMigrationReport } from './migration-report.js';
import { overlayViews, runDvsCli } from './cli-views.js';
import { demoArpSuppression } from './arp-suppression-demo.js';
import { demoTopTalkers } from './flow-export-demo.js';
import { interruptedBySignal, teardownOnSignal } from './signal-teardown.js';
import { isBuilt, programs } from './programs.js';

const say = (line = '') => console.log(line);
const section = (title: string) => say(`\n== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);

async function main(): Promise<number> {
  const id = randomLabId();
  const failures: string[] = [];
  section(`dvs demo (lab ${id})`);
  if (!isBuilt('agent')) {
    say(`dvs-agent is not built yet (${programs.agent} missing): the demo needs it for the dvs hosts.`);
    say('Nothing was started. Build it (scripts/bootstrap.sh) once the agent package has its entry point.');
    return 1;
  }
  const uninstall = teardownOnSignal(id);
  let lab: Lab | null = null;
  try {
    section(
      'building the lab: 3 dvs hosts x 2 VMs (agents with datapath: kernel), 1 kernel-vxlan host, VNI 100 vxlan + VNI 200 gre-udp, 1 real QEMU VM',
    );
    const t = Date.now();
    lab = await Lab.up({
      id,
      spec: {
        hosts: 3,
        vmsPerHost: 2,
        kernelHosts: 1,
        qemuVms: 1,
        // VXLAN goes to the kernel provider; GRE-in-UDP (no FOU in the kernel) stays in userspace.
        datapath: 'kernel',
        networks: [
          { vni: 100, encap: 'vxlan', name: 'blue-vxlan' },
          { vni: 200, encap: 'gre-udp', name: 'green-gre-udp' },
        ],
      },
      onProgress: (s) => say(`  [${((Date.now() - t) / 1000).toFixed(1).padStart(5)} s] ${s}`),
      onLimitation: (l) => say(`  NOT AVAILABLE: ${l}`),
    });

    section('which datapath provider serves which network (h1: dvs agent networks)');
    const served = await lab.admin('h1').call('networks/show');
    say(served.text.trimEnd());
    const providers = new Set(served.data.map((n) => n.provider));
    if (!providers.has('kernel') || !providers.has('userspace'))
      failures.push(`expected one network on each provider, got ${[...providers].join(', ')}`);
    if (lab.state.controller) {
      // The same from the controller's side: every host of each network, its provider and why.
      for (const n of lab.state.networks) {
        const v = await runDvsCli(lab, ['networks', 'show', String(n.vni)]);
        if (v === null) continue;
        section(v.title);
        const at = v.text.indexOf('datapath:');
        say(at >= 0 ? v.text.slice(at) : v.text);
      }
    }

    section('ping matrix (every VM to every VM)');
    const matrix = await runPingMatrix(lab);
    say(renderPingMatrix(lab, matrix));
    if (!matrix.ok) failures.push('ping matrix not as expected');

    // The QEMU VM (h1, VNI 100) goes to h3 and back for real; a namespace VM on h2 pings it every 10 ms.
    const mover = lab.qemuVms[0];
    const pinger = lab.state.vms.find((v) => v.host === 'h2' && v.vni === mover?.vni);
    if (!mover || mover.host !== 'h1' || !pinger)
      throw new Error('lab layout: expected a QEMU VM on h1 and a VM of its VNI on h2');
    section(`live migration of a real QEMU VM: ${mover.name} h1 -> h3 -> h1, ${pinger.name} pinging it every 10 ms`);
    const ping = new ContinuousPing(pinger.netns, mover.address, 10);
    const reports: MigrationReport[] = [];
    try {
      await ping.waitForReplies(100, 20_000);
      for (const to of ['h3', 'h1']) {
        // A quiet second first: each report's baseline gap is measured without a move in it.
        await new Promise((r) => setTimeout(r, 1000));
        say(`  moving ${mover.name} to ${to} (QEMU -incoming on ${to}, migrate over QMP) …`);
        const report = await migrateQemuVm(lab, mover.name, to, { ping });
        reports.push(report);
      }
    } finally {
      const summary = await ping.stop();
      if (summary)
        say(`  ping: ${summary.transmitted} sent, ${summary.received} received, ${summary.duplicates} duplicates`);
    }
    for (const r of reports) {
      section(`migration report ${r.from} -> ${r.to}`);
      say(renderMigrationReport(r));
      if (r.agentsConvergedMs === null) failures.push(`${r.from}->${r.to}: not every agent converged`);
      if (r.oldHostHoldsMac) failures.push(`${r.from}->${r.to}: the old host still holds the MAC`);
      if (r.flaps > 0) failures.push(`${r.from}->${r.to}: ${r.flaps} flap(s) back to the old host`);
      if (r.qemu?.sourcePortState !== 'gone')
        failures.push(`${r.from}->${r.to}: the source port was ${r.qemu?.sourcePortState ?? 'absent'}, not gone`);
    }
    section('traffic after the moves');
    const after = await lab.exec(pinger.name, ['ping', '-n', '-q', '-c', '5', '-i', '0.1', '-W', '1', mover.address]);
    say(after.stdout.trim().split('\n').slice(-2).join('\n'));
    if (parsePingSummary(after.stdout).received === 0) failures.push('no ping answered after the moves');
    const guest = await lab.exec(mover.name, ['uname', '-r']);
    say(
      `  ${mover.name}'s console after the moves: ${guest.code === 0 ? `answers (kernel ${guest.stdout.trim()})` : 'DEAD'}`,
    );
    if (guest.code !== 0) failures.push(`${mover.name}'s console does not answer after the moves`);

    // Shown on the network the userspace pipeline serves: the kernel provider's bridge answers ARP
    // (neigh_suppress) without counting the answers, and it keeps no flow cache.
    const userspaceVni = served.data.find((n) => n.provider === 'userspace')?.vni ?? 100;
    if (lab.state.controller?.socketPath) {
      section(`ARP suppression on VNI ${userspaceVni}: every VM forgets its neighbours and pings the others`);
      const arp = await demoArpSuppression(lab, userspaceVni);
      say(arp.text);
      if (arp.answered === 0) failures.push('ARP suppression answered nothing');
    }

    section(`top talkers on VNI ${userspaceVni}, from the agent's flow cache (no collector)`);
    const talkers = await demoTopTalkers(lab, userspaceVni);
    say(talkers.text);
    if (talkers.flows === 0) failures.push('the flow cache saw no flow');

    const { views, note } = await overlayViews(lab);
    if (note) say(`\nNOT AVAILABLE YET: ${note}`);
    for (const v of views) {
      section(v.title);
      say(v.text);
      if (!v.ok) failures.push(`${v.title} failed`);
      else if (v.problems) say(`(${v.title} reports problems: exit code 1)`);
    }
  } catch (e) {
    failures.push(isLabError(e) ? `${e.code}: ${e.message}` : ((e as Error).stack ?? String(e)));
  } finally {
    section('teardown');
    if (lab) {
      const problems = await lab.down();
      for (const p of problems) failures.push(`teardown: ${p}`);
      say(problems.length ? `  teardown left: ${problems.join('; ')}` : '  everything removed');
    }
    uninstall();
  }
  const signal = interruptedBySignal();
  if (signal) {
    // The signal handler is tearing the lab down and exits; what failed meanwhile failed because of it.
    say(`\n${signal}: demo interrupted`);
    return 130;
  }
  section(failures.length ? 'demo FAILED' : 'demo OK');
  for (const f of failures) say(`  - ${f}`);
  say('\nYour own lab, and dvs against it (from the repository root; as root):');
  say('  npx dvs lab up --hosts 3 --vms 2 --networks 100:vxlan,200:gre-udp --kernel-hosts 1 --qemu-vms 1');
  say('                                       this lab again, left running (lab id: main)');
  say("  npx dvs --lab main status            the controller's view; also tunnels, fdb, hosts, networks");
  say("  npx dvs --lab main/h2 agent ports    one host's agent; also agent fdb, peers, counters");
  say('  npx dvs lab migrate qvm1 h3          live-migrate the QEMU VM for real, with the report');
  say('  npx dvs lab down                     remove it');
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
