/**
 * `npm run bench -- migration --qemu [--moves 10]`: real QEMU live migrations
 * (TCG here) back and forth between h1 and h2 while a namespace VM on h3
 * pings the moving VM every 10 ms; per move QEMU's downtime, pings lost (in
 * all and beyond the downtime), the longest gap, the time from QEMU's resume
 * until every VTEP and the controller point to the destination, flaps; then
 * medians.
 *
 * Two QEMU VMs (qvm1 on h1, qvm2 on h2) take turns, so that neither moves
 * more than 5 times: the controller (as EVPN) freezes a MAC that moves more
 * often than that in 180 s, which is not what this measures. A move whose
 * guest kernel crashed afterwards (a rare TCG fault, docs/qemu.md) is
 * reported and ends the series.
 */
import type { Encap } from '@dvs/wire';
import { Lab } from '../src/lab.js';
import { ContinuousPing } from '../src/continuous-ping.js';
import { migrateQemuVm } from '../src/lab-qemu-migration.js';
import { openQemuVm } from '../src/lab-qemu.js';
import type { MigrationReport } from '../src/migration.js';
import { renderMigrationReport } from '../src/migration-report.js';
import { renderQemuMigrationSeries } from '../src/qemu-migration-report.js';

export async function runQemuMigrationSeries(
  id: string,
  options: { moves: number; encap: Encap; pollMs: number; verbose: boolean },
): Promise<number> {
  const movers = Math.max(1, Math.ceil(options.moves / 5));
  console.log(
    `migration benchmark (real QEMU): ${options.moves} live migrations h1 <-> h2 over ${movers} QEMU VM(s), 10 ms ping from h3, ${options.encap}, FDBs polled every ${options.pollMs} ms`,
  );
  let lab: Lab | null = null;
  try {
    lab = await Lab.up({
      id,
      spec: {
        hosts: 3,
        vmsPerHost: 1,
        kernelHosts: 0,
        networks: [{ vni: 100, encap: options.encap }],
        qemuVms: movers,
      },
    });
    const pinger = lab.state.vms.find((v) => v.host === 'h3')!;
    const reports: MigrationReport[] = [];
    for (let i = 0; i < options.moves; i++) {
      const vm = lab.qemuVms[i % lab.qemuVms.length];
      const to = vm.host === 'h1' ? 'h2' : 'h1';
      const ping = new ContinuousPing(pinger.netns, vm.address, 10);
      try {
        await ping.waitForReplies(100, 20_000);
        const r = await migrateQemuVm(lab, vm.name, to, { ping, holdMs: 1000, pollMs: options.pollMs });
        reports.push(r);
        if (options.verbose) console.log(renderMigrationReport(r));
        else
          console.log(
            `  move ${i + 1}/${options.moves}: ${r.vm} ${r.from}->${r.to} downtime ${r.qemu?.downtimeMs} ms, lost ${r.ping?.lost} (${r.ping?.lostBeyondDowntime} beyond)`,
          );
      } finally {
        await ping.stop();
      }
      const qemu = await openQemuVm(lab.qemuVm(vm.name).qemu);
      try {
        const answer = await qemu.exec('true', { timeoutMs: 30_000 }).catch((e: Error) => e);
        if (answer instanceof Error) {
          console.log(`  the guest of ${vm.name} no longer answers after move ${i + 1}: ${answer.message}`);
          break;
        }
      } finally {
        qemu.disconnect();
      }
    }
    console.log('');
    console.log(renderQemuMigrationSeries(reports));
    return reports.length === options.moves ? 0 : 1;
  } finally {
    if (lab) await lab.down();
  }
}
