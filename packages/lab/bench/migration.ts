/**
 * Migration benchmark (`npm run bench -- migration [--moves 20] [--encap gre-udp] [--poll-ms 10] [--verbose]`):
 * VMs move back and forth between h1 and h2 while a VM on h3 pings the mover
 * every 10 ms; per-move lost pings, longest gap, convergence of every agent and
 * of the controller's table, flaps, then medians beside issue 7's targets.
 *
 * The moves are spread over several VMs, each moving at most 4 times, because
 * the controller (as EVPN) freezes a MAC that moves more than 5 times in 180 s:
 * that dampening is a feature, not what this benchmark measures.
 */
import { Lab } from '../src/lab.js';
import { randomLabId } from '../src/lab-layout.js';
import { ContinuousPing } from '../src/continuous-ping.js';
import { migrateVm, type MigrationReport } from '../src/migration.js';
import { renderMigrationReport, renderMigrationSeries } from '../src/migration-report.js';
import { teardownOnSignal } from '../src/signal-teardown.js';
import { isBuilt, programs } from '../src/programs.js';
import type { Encap } from '@dvs/wire';

const MOVES_PER_VM = 4;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const HELP = `usage: npm run bench -- migration [options]
   or: node packages/lab/dist/bench/migration.js [options]   (as root)

Live-migrates VMs back and forth between two hosts of a namespace lab under a
10 ms ping from a third; prints per-move losses, gaps, convergence and flaps.

options:
  --moves N        migrations (default 20)
  --encap E        vxlan or gre-udp (default vxlan)
  --poll-ms N      how often the FDBs are polled during a move (default 10)
  --verbose        one report per move
  -h, --help       this text
`;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const moves = Number(option('moves', '20'));
  const encap = option('encap', 'vxlan') as Encap;
  const verbose = process.argv.includes('--verbose');
  // FDB polling costs the agents CPU during the move; a coarser poll disturbs less.
  const pollMs = Number(option('poll-ms', '10'));
  if (!isBuilt('agent')) {
    console.log(`migration benchmark: dvs-agent is not built yet (${programs.agent} missing); nothing measured`);
    return 1;
  }
  const movers = Math.ceil(moves / MOVES_PER_VM);
  const id = randomLabId();
  const uninstall = teardownOnSignal(id);
  let lab: Lab | null = null;
  try {
    console.log(
      `migration benchmark: ${moves} moves h1 <-> h2 over ${movers} VMs, 10 ms ping from h3, ${encap}, FDB polled every ${pollMs} ms`,
    );
    lab = await Lab.up({
      id,
      spec: { hosts: 3, vmsPerHost: movers, kernelHosts: 0, networks: [{ vni: 100, encap }] },
    });
    for (const l of lab.state.limitations) console.log(`limitation: ${l}`);
    const pinger = lab.state.vms.find((v) => v.host === 'h3')!;
    const moving = lab.state.vms.filter((v) => v.host === 'h1');
    const reports: MigrationReport[] = [];
    for (let i = 0; i < moves; i++) {
      const vm = moving[i % moving.length];
      const to = vm.host === 'h1' ? 'h2' : 'h1';
      const ping = new ContinuousPing(pinger.netns, vm.address, 10);
      try {
        await ping.waitForReplies(100, 10_000);
        const r = await migrateVm(lab, vm.name, to, { ping, holdMs: 1000, pollMs });
        reports.push(r);
        if (verbose) console.log(renderMigrationReport(r));
        else process.stdout.write(`  move ${i + 1}/${moves}: ${r.vm} ${r.from}->${r.to} lost ${r.ping?.lost ?? '-'}\n`);
      } finally {
        await ping.stop();
      }
    }
    console.log('');
    console.log(renderMigrationSeries(reports));
    return 0;
  } finally {
    if (lab) await lab.down();
    uninstall();
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`migration benchmark failed: ${e.message}`);
  return 1;
});
