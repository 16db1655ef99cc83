/**
 * Installing the dvs .deb on the machine the tests run on, which is also
 * where people work and other checkouts run their tests:
 * - one install test at a time machine-wide: a flock on /run/lock, held by a
 *   child process that exits when this process does (crash included), so
 *   the lock can never be left behind;
 * - dpkg's own lock (an apt-get elsewhere) is waited for, not failed on;
 * - a dvs package this test did not install is never touched: the test
 *   refuses to run instead. One it did install (the marker file says so)
 *   and left behind after a crash is purged first.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { run, type RunResult } from './run-command.js';

const LOCK_FILE = '/run/lock/dvs-package-test.lock';
/** Present while a test has the package installed: tells a crash leftover from an operator's install. */
export const INSTALLED_BY_TEST = '/run/lock/dvs-package-test.installed';

export class MachineLock {
  private constructor(private readonly holder: ChildProcess) {}

  /** Waits (up to waitSeconds) for the machine-wide package-test lock. */
  static async take(waitSeconds = 900): Promise<MachineLock> {
    const holder = spawn('flock', ['-w', String(waitSeconds), LOCK_FILE, 'sh', '-c', 'echo locked; exec cat'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`could not take ${LOCK_FILE} (flock exit ${code})`)));
    });
    return new MachineLock(holder);
  }

  /** Releases the lock (the holder sees end of input and exits). */
  release(): void {
    this.holder.stdin?.end();
  }
}

/** dpkg's status of a package ("install ok installed", "deinstall ok config-files"), or null when it is not there at all. */
export function dpkgStatus(pkg: string): string | null {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: 'pipe' }).trim();
    return status === '' || status.endsWith(' not-installed') ? null : status;
  } catch {
    return null;
  }
}

/** dpkg with its arguments, retried while another dpkg/apt holds the dpkg lock (up to 5 minutes). */
export async function dpkg(args: string[]): Promise<RunResult> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const r = await run(['dpkg', ...args], { allowFailure: true, timeoutMs: 120_000 });
    if (r.code === 0 || !/lock/i.test(r.stderr) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Before installing: purge what a crashed run of this test left; refuse an install that is not ours. */
export async function claimPackage(pkg: string): Promise<void> {
  if (dpkgStatus(pkg) === null) return;
  if (!existsSync(INSTALLED_BY_TEST)) {
    throw new Error(
      `package ${pkg} is installed on this machine and this test did not install it: ` +
        `the install test leaves it alone (dpkg -P ${pkg} to let the test run)`,
    );
  }
  const r = await dpkg(['--purge', pkg]);
  if (r.code !== 0) throw new Error(`purging the leftover ${pkg}: ${r.stderr}`);
  rmSync(INSTALLED_BY_TEST, { force: true });
}

export function markInstalledByTest(): void {
  writeFileSync(INSTALLED_BY_TEST, `${process.pid}\n`);
}

/** After the test: purge the package this test installed if it is still there (also on failure), and drop the marker. */
export async function purgeIfInstalled(pkg: string): Promise<void> {
  if (!existsSync(INSTALLED_BY_TEST)) return;
  if (dpkgStatus(pkg) !== null) await dpkg(['--purge', pkg]);
  if (dpkgStatus(pkg) === null) rmSync(INSTALLED_BY_TEST, { force: true });
}

/** The same, synchronously: the process 'exit' handler's last resort. */
export function purgeIfInstalledSync(pkg: string): void {
  if (!existsSync(INSTALLED_BY_TEST) || dpkgStatus(pkg) === null) return;
  try {
    execFileSync('dpkg', ['--purge', pkg], { stdio: 'ignore', timeout: 120_000 });
    rmSync(INSTALLED_BY_TEST, { force: true });
  } catch {
    // The marker stays: the next run purges it.
  }
}
