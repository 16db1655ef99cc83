import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './run-command.js';

/**
 * A throw-away set of network namespaces, links and processes for one e2e
 * test file, with names `<prefix><pid>…` so parallel runs and other engineers'
 * labs never collide. cleanup() (call it from an `after` hook) kills every
 * process it started (by PID: SIGTERM, then SIGKILL), deletes every namespace
 * (and with it every device inside) and every root-namespace link, and the
 * temp directory — also when the test failed half-way.
 *
 * Interface names stay within 15 bytes: keep prefixes short.
 */
export class NetnsLab {
  readonly id: string;
  private readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private dir: string | null = null;

  constructor(prefix: string) {
    this.id = `${prefix}${process.pid % 100000}`;
    // Last resort when the process exits without cleanup() (a crash in a
    // hook): kill what we started and delete our namespaces, synchronously.
    process.once('exit', () => this.cleanupSync());
  }

  private cleanupSync(): void {
    for (const p of this.processes) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
  }

  /** A name unique to this lab: `<prefix><pid><suffix>`. */
  name(suffix: string): string {
    const n = `${this.id}${suffix}`;
    if (Buffer.byteLength(n) > 15) throw new Error(`name ${n} is longer than 15 bytes`);
    return n;
  }

  /** A private temp directory (configs, sockets, captures, logs). */
  async tempDir(): Promise<string> {
    this.dir ??= await mkdtemp(join(tmpdir(), `${this.id}-`));
    return this.dir;
  }

  /**
   * Creates a namespace with loopback up; returns its name. IPv6 is off
   * unless asked for (no router solicitations or MLD: counters stay exact).
   */
  async netns(suffix: string, options: { ipv6?: boolean } = {}): Promise<string> {
    const ns = this.name(suffix);
    await run(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const off = options.ipv6 === true ? 0 : 1;
    await this.exec(ns, [
      'sysctl',
      '-qw',
      `net.ipv6.conf.all.disable_ipv6=${off}`,
      `net.ipv6.conf.default.disable_ipv6=${off}`,
    ]);
    return ns;
  }

  /** A veth pair between two namespaces, addresses optional (CIDR), both ends up. */
  async veth(
    nsA: string,
    ifA: string,
    addrA: string | null,
    nsB: string,
    ifB: string,
    addrB: string | null,
    mtu = 1500,
  ): Promise<void> {
    await run([
      'ip',
      'link',
      'add',
      ifA,
      'netns',
      nsA,
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'name',
      ifB,
      'netns',
      nsB,
      'mtu',
      String(mtu),
    ]);
    for (const [ns, dev, addr] of [
      [nsA, ifA, addrA],
      [nsB, ifB, addrB],
    ] as const) {
      // nodad: an IPv6 address is usable at once (no duplicate address detection wait).
      if (addr !== null)
        await run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev, ...(addr.includes(':') ? ['nodad'] : [])]);
      await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /** Runs argv inside a namespace. */
  exec(ns: string, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', ns, ...argv], options);
  }

  /** Moves a device from one namespace into another. */
  async moveLink(fromNs: string, dev: string, toNs: string): Promise<void> {
    await run(['ip', '-n', fromNs, 'link', 'set', dev, 'netns', toNs]);
  }

  /**
   * Starts a long-running process inside a namespace (ip netns exec execs it in
   * place, so the PID is the program's). stdout/stderr go to `logFile` when given.
   */
  spawn(ns: string, argv: readonly string[], logFile?: string): ChildProcess {
    const fd = logFile === undefined ? 'ignore' : openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', fd, fd] });
    if (typeof fd === 'number') closeSync(fd);
    child.on('error', () => undefined);
    this.processes.push(child);
    return child;
  }

  /** Stops one process this lab started: SIGTERM, SIGKILL after graceMs; resolves with its exit code (or signal). */
  async stop(child: ChildProcess, graceMs = 5000): Promise<number | string | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('exit', (code, sig) => resolve(code ?? sig)),
    );
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((p) => this.stop(p, 2000)));
    for (const ns of this.namespaces.splice(0).reverse()) {
      await run(['ip', 'netns', 'del', ns], { allowFailure: true });
    }
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Namespaces left by earlier runs of `prefix` whose process is gone (best effort, for diagnostics). */
export async function leftoverNamespaces(prefix: string): Promise<string[]> {
  const out = await run(['ip', 'netns', 'list'], { allowFailure: true });
  return out.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(prefix));
}
