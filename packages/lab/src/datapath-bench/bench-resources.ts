/**
 * What one benchmark topology created — namespaces and processes — so that
 * `release()` removes exactly that, also when a build fails half-way, on
 * Ctrl-C (the runner's signal handler calls it) and, as a last resort, on
 * process exit (synchronously). Every namespace is `<tag>-<role>` with the
 * tag `dvb<pid>-<n>`: parallel runs and other engineers' labs never collide,
 * and a leftover is recognisable by name. release() also sweeps namespaces
 * by that prefix: one whose `ip netns add` was still in flight when Ctrl-C
 * came is not in the list yet.
 *
 * Devices are created directly inside these namespaces (never in the root
 * namespace), so deleting the namespaces deletes every device.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type RunOptions, type RunResult } from '../command-runner.js';
import { LabError } from '../errors.js';

export const BENCH_PREFIX = 'dvb';

let sequence = 0;

const live = new Set<BenchResources>();
process.once('exit', () => {
  for (const r of live) r.releaseSync();
});

export class BenchResources {
  /** `dvb<pid>-<n>`: unique per process and per topology built. */
  readonly tag: string;
  private readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private readonly tempDirs = new Set<string>();
  private released = false;

  constructor() {
    this.tag = `${BENCH_PREFIX}${process.pid % 100000}-${sequence++}`;
    live.add(this);
  }

  namespaceName(role: string): string {
    return `${this.tag}-${role}`;
  }

  /** Creates a namespace with loopback up and IPv6 off (no chatter in the figures). */
  async namespace(role: string): Promise<string> {
    if (this.released) throw new LabError('DVS_LAB_TIMEOUT', `${this.tag} is released: no new namespace`);
    const ns = this.namespaceName(role);
    // Listed first: a release() that races with the creation still deletes it.
    this.namespaces.push(ns);
    await runCommand(['ip', 'netns', 'add', ns]);
    await this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    await this.exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /**
   * A temp dir `/tmp/<tag>-<label>-XXXXXX`, removed by release() (also on
   * Ctrl-C and at exit) unless keep() took it back.
   */
  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `${this.tag}-${label}-`));
    this.tempDirs.add(dir);
    return dir;
  }

  /** Leaves `dir` (from tempDir) in place at release: what it holds is wanted afterwards. */
  keep(dir: string): void {
    this.tempDirs.delete(dir);
  }

  exec(ns: string, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(['ip', 'netns', 'exec', ns, ...argv], options);
  }

  /** `ip -batch` inside a namespace. */
  async ip(ns: string, lines: readonly string[]): Promise<void> {
    await runCommand(['ip', '-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  }

  /**
   * Starts a long-running program in a namespace. `ip netns exec` execs it in
   * place, so the child's pid is the program's (its /proc/<pid>/stat is the
   * program's CPU time).
   */
  spawn(
    ns: string,
    argv: readonly string[],
    logFile?: string,
    cwd?: string,
    env?: Readonly<Record<string, string>>,
  ): ChildProcess {
    const fd = logFile === undefined ? 'ignore' : openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['ignore', fd, fd],
      cwd,
      env: env === undefined ? process.env : { ...process.env, ...env },
    });
    if (typeof fd === 'number') closeSync(fd);
    child.on('error', () => undefined);
    this.processes.push(child);
    return child;
  }

  /** Stops one process this topology started (SIGTERM, SIGKILL after `graceMs`); already exited is fine. */
  async stop(child: ChildProcess, graceMs = 3000): Promise<void> {
    await stopProcess(child, graceMs);
  }

  /** Stops processes (SIGTERM; SIGKILL after 10 s: an agent under --cpu-prof writes its profile on exit), then deletes the namespaces and temp dirs. Never throws. */
  async release(): Promise<void> {
    this.released = true;
    await Promise.all(this.processes.splice(0).map((p) => stopProcess(p, 10_000)));
    const listed = await runCommand(['ip', 'netns', 'list'], { allowFailure: true }).catch(() => ({ stdout: '' }));
    const swept = listed.stdout
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => n.startsWith(`${this.tag}-`));
    for (const ns of new Set([...this.namespaces.splice(0).reverse(), ...swept])) {
      await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true }).catch(() => undefined);
    }
    for (const dir of this.tempDirs) await rm(dir, { recursive: true, force: true });
    this.tempDirs.clear();
    live.delete(this);
  }

  /** Exit-time cleanup: no event loop left, so everything synchronous. */
  releaseSync(): void {
    for (const p of this.processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    for (const dir of this.tempDirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Releases every topology still alive in this process (the Ctrl-C path). */
export async function releaseAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.release()));
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
