/**
 * QEMU guest benchmark (`npm run bench -- qemu-guest [--boots 5] [--moves 4]`):
 * what a real guest costs on this machine, with no dvs in the path.
 *
 *  1. Boot time, one guest at a time: wall time from spawn to the guest's
 *     console shell answering, and the CPU time QEMU used for it (what the
 *     boot costs with a core to itself). Their ratio, CPU/wall, is the share
 *     of a core the guest got: on a shared machine it explains the spread.
 *  2. Live migration on a Linux bridge, back and forth between two QEMUs,
 *     under a 10 ms ping from the namespace: QEMU's downtime and total time
 *     (query-migrate), pings lost and the longest gap around each move, the
 *     gap over QEMU's downtime as a ratio.
 *
 * Prints the load average too: on a shared 2-core machine it explains most
 * of the spread.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { ContinuousPing, pingWindowFigures } from '../src/continuous-ping.js';
import { runCommand } from '../src/command-runner.js';
import { detectAcceleration } from '../src/qemu/acceleration.js';
import { ensureGuestImage } from '../src/qemu/guest-image.js';
import { migrateQemu, type QemuMigrationResult } from '../src/qemu/qemu-migration.js';
import { QemuVm, type QemuVmOptions } from '../src/qemu/qemu-vm.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** utime + stime of a process in ms (/proc/<pid>/stat fields 14 and 15; USER_HZ is 100 on Linux x86). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function bootOnce(options: QemuVmOptions): Promise<{ wallMs: number; cpuMs: number }> {
  const vm = await QemuVm.start(options);
  try {
    await vm.waitBooted();
    return { wallMs: vm.bootMs!, cpuMs: await cpuMs(vm.pid) };
  } finally {
    await vm.kill();
  }
}

async function main(): Promise<number> {
  const boots = option('boots', 5);
  const moves = option('moves', 4);
  const image = await ensureGuestImage();
  const accel = await detectAcceleration(image);
  const ns = `dvqb${process.pid % 100000}`;
  const bridge = 'br0';
  await runCommand(['ip', 'netns', 'add', ns]);
  const vms: QemuVm[] = [];
  try {
    await runCommand(['ip', '-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
    await runCommand(['ip', '-n', ns, 'addr', 'add', '192.0.2.254/24', 'dev', bridge]);
    await runCommand(['ip', '-n', ns, 'link', 'set', bridge, 'up']);
    console.log(`QEMU guest benchmark: ${image.kernelRelease}, ${accel.accel} (${accel.reason}), load ${load()}`);

    const bootVm: QemuVmOptions = {
      name: 'boot',
      netns: ns,
      tap: 'tboot',
      mac: '02:00:5e:20:00:09',
      guest: { ip: '192.0.2.9/24' },
    };
    const runs: { wallMs: number; cpuMs: number }[] = [];
    for (let i = 0; i < boots; i++) {
      const r = await bootOnce(bootVm);
      runs.push(r);
      console.log(
        `  boot ${i + 1}/${boots}: ${r.wallMs} ms, QEMU CPU ${r.cpuMs} ms, CPU/wall ${(r.cpuMs / r.wallMs).toFixed(2)} (load ${load()})`,
      );
    }
    const wall = median(runs.map((r) => r.wallMs));
    const cpu = median(runs.map((r) => r.cpuMs));
    console.log(`boot median: ${wall} ms wall, ${cpu} ms QEMU CPU; CPU/wall ${(cpu / wall).toFixed(2)}`);

    const mover = (tap: string, incoming: boolean): QemuVmOptions => ({
      name: 'vm1',
      netns: ns,
      tap,
      mac: '02:00:5e:20:00:01',
      bridge,
      guest: { ip: '192.0.2.1/24' },
      incoming,
    });
    let source = await QemuVm.start(mover('ta', false));
    vms.push(source);
    await source.waitBooted();
    const ping = new ContinuousPing(ns, '192.0.2.1', 10);
    const results: (QemuMigrationResult & { lost: number; gapMs: number })[] = [];
    try {
      await ping.waitForReplies(100, 20_000);
      for (let i = 0; i < moves; i++) {
        const destination = await QemuVm.start(mover(source.tap === 'ta' ? 'tb' : 'ta', true));
        vms.push(destination);
        const from = Date.now();
        const r = await migrateQemu(source, destination);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const w = pingWindowFigures(ping, from - 500, Date.now());
        results.push({ ...r, lost: w.lost, gapMs: w.longestGapMs });
        console.log(
          `  move ${i + 1}/${moves}: downtime ${r.downtimeMs} ms, total ${r.totalTimeMs} ms, ` +
            `lost ${w.lost} pings, longest gap ${w.longestGapMs.toFixed(0)} ms (load ${load()})`,
        );
        source = destination;
      }
    } finally {
      await ping.stop();
    }
    const down = median(results.map((r) => r.downtimeMs));
    const gap = median(results.map((r) => r.gapMs));
    console.log(
      `migration median: downtime ${down} ms, total ${median(results.map((r) => r.totalTimeMs))} ms, ` +
        `lost ${median(results.map((r) => r.lost))} pings at 10 ms, longest gap ${gap.toFixed(0)} ms; gap/downtime ${(gap / down).toFixed(2)}`,
    );
    console.log(`duplicates: ${ping.duplicateTimes.length}`);
    return 0;
  } finally {
    await Promise.all(vms.map((vm) => vm.kill().catch(() => undefined)));
    await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`QEMU guest benchmark failed: ${e.message}`);
  return 1;
});
