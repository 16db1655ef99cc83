/**
 * Migration soak of real QEMU guests (`npm run bench -- qemu-soak [options]`):
 * how often a guest dies after a live migration under TCG, per set of guest
 * kernel clock parameters. No dvs in the path: the guests sit on a Linux
 * bridge in one namespace, as in qemu-guest.ts.
 *
 * Every variant runs at the same time (`--per-variant` guests each), so that
 * all of them see the same host load; each guest pings the bridge every 10 ms
 * from inside (a busy guest, like the tests' ones) and moves back and forth
 * between two QEMUs. After each move the destination's console must answer
 * within 30 s. A guest that does not (a panic ends QEMU: -no-reboot; a hang
 * leaves it running) counts as a crash: its kernel's last lines go to
 * `--out`, and a fresh guest takes its place.
 *
 * Prints a line per crash and, at the end (or every `--report-s`), per
 * variant: moves, crashes, migration failures, median downtime, boot time.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { runCommand } from '../src/command-runner.js';
import { detectAcceleration } from '../src/qemu/acceleration.js';
import { ensureGuestImage } from '../src/qemu/guest-image.js';
import { migrateQemu } from '../src/qemu/qemu-migration.js';
import { GUEST_BOOT_PARAMETERS } from '../src/qemu/qemu-command.js';
import { QemuVm, type QemuVmOptions } from '../src/qemu/qemu-vm.js';
import { median } from '../src/migration-report.js';

const HELP = `usage: npm run bench -- qemu-soak [options]
   or: node packages/lab/dist/bench/qemu-migration-soak.js [options]   (as root)

options:
  --variant NAME=PARAMS[;tcg=single]
                          guest kernel parameters to test (repeatable), optionally
                          with TCG's threading; default: the guest's own
                          ("${GUEST_BOOT_PARAMETERS}")
  --per-variant N         guests per variant moving at the same time (default 1)
  --minutes M             run this long (default 10)
  --report-s S            print the table every S seconds (default 300)
  --out FILE              JSON lines: every move and every crash (default /tmp/dvs-qemu-soak.jsonl)
`;

interface Variant {
  name: string;
  params: string;
  tcgThread?: 'single' | 'multi';
  moves: number;
  crashes: number;
  migrationFailures: number;
  downtimes: number[];
  boots: number[];
}

function options(name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.argv.length - 1; i++) if (process.argv[i] === `--${name}`) out.push(process.argv[i + 1]);
  return out;
}
const option = (name: string, fallback: string) => options(name)[0] ?? fallback;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function table(variants: readonly Variant[]): string {
  const rows = variants.map((v) =>
    [
      v.name.padEnd(12),
      String(v.moves).padStart(6),
      String(v.crashes).padStart(7),
      String(v.migrationFailures).padStart(9),
      (v.moves > 0 ? ((1000 * v.crashes) / v.moves).toFixed(1) : '-').padStart(12),
      String(median(v.downtimes) ?? '-').padStart(13),
      String(median(v.boots) ?? '-').padStart(12),
      `  ${v.params}${v.tcgThread ? ` (tcg thread=${v.tcgThread})` : ''}`,
    ].join(' '),
  );
  return [
    `${'variant'.padEnd(12)}  moves crashes migfails crashes/1000 downtime med boot med ms  parameters`,
    ...rows,
  ].join('\n');
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const variants: Variant[] = (
    options('variant').length ? options('variant') : [`default=${GUEST_BOOT_PARAMETERS}`]
  ).map((v) => {
    const eq = v.indexOf('=');
    const [params, tcg] = v.slice(eq + 1).split(';tcg=');
    return {
      name: v.slice(0, eq),
      params,
      tcgThread: tcg === 'single' || tcg === 'multi' ? tcg : undefined,
      moves: 0,
      crashes: 0,
      migrationFailures: 0,
      downtimes: [],
      boots: [],
    };
  });
  const perVariant = Number(option('per-variant', '1'));
  const endAt = Date.now() + Number(option('minutes', '10')) * 60_000;
  const reportMs = Number(option('report-s', '300')) * 1000;
  const out = option('out', '/tmp/dvs-qemu-soak.jsonl');
  const image = await ensureGuestImage();
  const accel = await detectAcceleration(image);
  const ns = `dvqs${process.pid % 100000}`;
  const bridge = 'br0';
  const log = (record: object) => appendFile(out, `${JSON.stringify({ at: Date.now(), ...record })}\n`);
  await runCommand(['ip', 'netns', 'add', ns]);
  const live = new Set<QemuVm>();
  try {
    await runCommand(['ip', '-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
    await runCommand(['ip', '-n', ns, 'addr', 'add', '192.0.2.254/24', 'dev', bridge]);
    await runCommand(['ip', '-n', ns, 'link', 'set', bridge, 'up']);
    console.log(
      `QEMU migration soak: ${variants.length} variant(s) x ${perVariant} guest(s), ${accel.accel}, load ${load()}, log ${out}`,
    );

    const slot = async (variant: Variant, index: number): Promise<void> => {
      const n = variants.indexOf(variant) * perVariant + index + 1;
      const base = (tap: string, incoming: boolean): QemuVmOptions => ({
        name: `s${n}`,
        netns: ns,
        tap,
        mac: `02:00:5e:30:00:${n.toString(16).padStart(2, '0')}`,
        bridge,
        guest: { ip: `192.0.2.${n}/24` },
        incoming,
        bootParameters: variant.params,
        tcgThread: variant.tcgThread,
      });
      const tapA = `s${n}a`;
      const tapB = `s${n}b`;
      while (Date.now() < endAt) {
        // A fresh guest (first, or after a crash), busy with a 10 ms ping of the bridge.
        let source = await QemuVm.start(base(tapA, false));
        live.add(source);
        try {
          await source.waitBooted({ timeoutMs: 120_000 });
          variant.boots.push(source.bootMs!);
          await source.exec('ping -q -i 0.01 192.0.2.254 >/dev/null 2>&1 &');
        } catch (err) {
          await log({ variant: variant.name, slot: n, bootFailed: (err as Error).message });
          await source.kill();
          live.delete(source);
          continue;
        }
        while (Date.now() < endAt) {
          const destination = await QemuVm.start(base(source.tap === tapA ? tapB : tapA, true));
          live.add(destination);
          let downtimeMs: number;
          try {
            downtimeMs = (await migrateQemu(source, destination)).downtimeMs;
          } catch (err) {
            variant.migrationFailures++;
            const serial = await readFile(source.serialLog, 'utf8').catch(() => '');
            await log({
              variant: variant.name,
              slot: n,
              migrationFailed: (err as Error).message,
              serial: serial.slice(-3000),
            });
            console.log(`  ${variant.name} s${n}: migration failed: ${(err as Error).message.split('\n')[0]}`);
            await Promise.all([source.kill(), destination.kill()]);
            live.delete(source);
            live.delete(destination);
            break;
          }
          live.delete(source);
          variant.moves++;
          variant.downtimes.push(downtimeMs);
          source = destination;
          const answer = await destination
            .exec('echo alive', { timeoutMs: 30_000 })
            .then((r) => r.output)
            .catch((err: Error) => err.message);
          if (answer === 'alive\n') {
            await log({ variant: variant.name, slot: n, downtimeMs, load: loadavg()[0] });
            continue;
          }
          variant.crashes++;
          const running = await destination.isRunning();
          const serial = await readFile(destination.serialLog, 'utf8').catch(() => '');
          await log({
            variant: variant.name,
            slot: n,
            crash: true,
            running,
            downtimeMs,
            load: loadavg()[0],
            serial: serial.slice(-6000),
          });
          console.log(
            `  CRASH ${variant.name} s${n} after move ${variant.moves} (${running ? 'QEMU runs, guest hung' : 'QEMU exited'}), load ${load()}`,
          );
          await destination.kill();
          live.delete(destination);
          break;
        }
        if (live.has(source)) {
          await source.kill();
          live.delete(source);
        }
      }
    };

    const timer = setInterval(() => console.log(`\n[load ${load()}]\n${table(variants)}`), reportMs);
    try {
      await Promise.all(variants.flatMap((v) => Array.from({ length: perVariant }, (_, i) => slot(v, i))));
    } finally {
      clearInterval(timer);
    }
    console.log(`\nQEMU migration soak done (load ${load()}):\n${table(variants)}`);
    return 0;
  } finally {
    await Promise.all([...live].map((vm) => vm.kill().catch(() => undefined)));
    await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`QEMU migration soak failed: ${e.stack ?? e.message}`);
  return 1;
});
