/**
 * QEMU guest benchmark (`npm run bench -- qemu-guest [--boots 3] [--moves 4]`):
 * what a real guest costs on this machine, with no dvs in the path.
 *
 *  1. Boot time: spawn to the guest's console shell answering, with qboot
 *     (what QemuVm uses) and with QEMU's default SeaBIOS as the baseline,
 *     alternating, one guest at a time; medians and their ratio.
 *  2. Live migration on a Linux bridge, back and forth between two QEMUs,
 *     under a 10 ms ping from the namespace: QEMU's downtime and total time
 *     (query-migrate), pings lost and the longest gap around each move, the
 *     gap over QEMU's downtime as a ratio.
 *
 * Prints the load average too: on a shared 2-core machine it explains most
 * of the spread.
 */
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

async function bootOnce(base: QemuVmOptions, firmware: string | null | undefined): Promise<number> {
  const vm = await QemuVm.start({ ...base, firmware });
  try {
    await vm.waitBooted();
    return vm.bootMs!;
  } finally {
    await vm.kill();
  }
}

async function main(): Promise<number> {
  const boots = option('boots', 3);
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

    const base: QemuVmOptions = {
      name: 'boot',
      netns: ns,
      tap: 'tboot',
      mac: '02:00:5e:20:00:09',
      guest: { ip: '192.0.2.9/24' },
    };
    const qboot: number[] = [];
    const seabios: number[] = [];
    for (let i = 0; i < boots; i++) {
      qboot.push(await bootOnce(base, undefined));
      seabios.push(await bootOnce(base, null));
      console.log(`  boot ${i + 1}/${boots}: qboot ${qboot[i]} ms, SeaBIOS ${seabios[i]} ms (load ${load()})`);
    }
    const q = median(qboot);
    const s = median(seabios);
    console.log(`boot median: qboot ${q} ms, SeaBIOS ${s} ms (baseline); qboot/SeaBIOS ${(q / s).toFixed(2)}`);

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
