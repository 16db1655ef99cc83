/**
 * KVM or TCG: decided once per machine and cached beside the guest image.
 *
 * /dev/kvm can exist and still not run a guest (nested virtualisation that
 * fails, a sandbox). So the probe is the real thing: boot the guest image
 * under `-accel kvm` and wait for its console shell to answer. Anything else (no
 * /dev/kvm, QEMU refuses, the guest does not come up in time) means TCG.
 * The cache is keyed by the QEMU version and the guest kernel; delete
 * `acceleration.json` (or set DVS_QEMU_ACCEL=kvm|tcg) to override.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../command-runner.js';
import { LabError } from '../errors.js';
import { deadlineSignal } from './deadline.js';
import { GuestConsole } from './guest-console.js';
import { guestKernelCommandLine } from './guest-init.js';
import type { GuestImage } from './guest-image.js';
import { QEMU_BINARY, qemuCommand, type QemuAccelerator } from './qemu-command.js';

export interface AccelerationChoice {
  accel: QemuAccelerator;
  /** Why (shown in logs and docs: "/dev/kvm is missing", "a KVM guest booted in 1.2 s"). */
  reason: string;
  qemuVersion: string;
  kernelRelease: string;
}

export interface AccelerationOptions {
  /** Probe again even when a cached decision exists. */
  force?: boolean;
  /** How long a KVM guest may take to boot before KVM counts as unusable. Default 20 s. */
  probeTimeoutMs?: number;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/** `qemu-system-x86_64 --version` → "7.2.22"; LabError DVS_LAB_TOOL_MISSING when QEMU is not installed. */
export async function qemuVersion(signal?: AbortSignal): Promise<string> {
  const r = await runCommand([QEMU_BINARY, '--version'], { signal });
  return /version (\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

async function probeKvm(image: GuestImage, timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is missing or not accessible';
  }
  const dir = await mkdtemp(join(tmpdir(), 'dvs-kvm-probe-'));
  const socket = join(dir, 'console.sock');
  const argv = qemuCommand({
    name: 'dvs-kvm-probe',
    kernel: image.kernel,
    initrd: image.initrd,
    kernelCommandLine: guestKernelCommandLine({ name: 'kvm-probe' }),
    accel: 'kvm',
    memoryMb: 128,
    commandConsole: { socket, log: join(dir, 'console.log') },
  });
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.on('error', () => undefined);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code) =>
      resolve(`QEMU under KVM exited: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`),
    ),
  );
  const done = new AbortController();
  const deadline = AbortSignal.any([deadlineSignal(signal, timeoutMs), done.signal]);
  const booted = (async () => {
    const guest = await GuestConsole.connect(socket, { signal: deadline });
    try {
      await guest.waitReady({ signal: deadline });
      return null;
    } finally {
      guest.close();
    }
  })().catch(() => `a KVM guest did not boot within ${timeoutMs} ms`);
  try {
    return await Promise.race([booted, exited]);
  } finally {
    done.abort();
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

/** KVM when a guest really boots under it, else TCG; cached in `<image.dir>/acceleration.json`. */
export async function detectAcceleration(
  image: GuestImage,
  options: AccelerationOptions = {},
): Promise<AccelerationChoice> {
  const override = process.env.DVS_QEMU_ACCEL;
  const version = await qemuVersion(options.signal);
  if (override !== undefined && override !== '') {
    if (override !== 'kvm' && override !== 'tcg')
      throw new LabError('DVS_LAB_BAD_SPEC', `DVS_QEMU_ACCEL=${override} is invalid: use kvm or tcg, or unset it`);
    return { accel: override, reason: 'DVS_QEMU_ACCEL', qemuVersion: version, kernelRelease: image.kernelRelease };
  }
  const cacheFile = join(image.dir, 'acceleration.json');
  if (options.force !== true) {
    const cached = await readFile(cacheFile, 'utf8')
      .then((t) => JSON.parse(t) as AccelerationChoice)
      .catch(() => null);
    if (cached !== null && cached.qemuVersion === version && cached.kernelRelease === image.kernelRelease)
      return cached;
  }
  const progress = options.onProgress ?? ((line: string) => process.stderr.write(`[guest] ${line}\n`));
  progress('probing KVM with a guest boot (once; the answer is cached)');
  const started = Date.now();
  const failure = await probeKvm(image, options.probeTimeoutMs ?? 20_000, options.signal);
  const choice: AccelerationChoice =
    failure === null
      ? {
          accel: 'kvm',
          reason: `a KVM guest booted in ${Date.now() - started} ms`,
          qemuVersion: version,
          kernelRelease: image.kernelRelease,
        }
      : { accel: 'tcg', reason: failure, qemuVersion: version, kernelRelease: image.kernelRelease };
  progress(`acceleration: ${choice.accel} (${choice.reason})`);
  if (options.signal?.aborted !== true) await writeFile(cacheFile, JSON.stringify(choice, null, 2) + '\n');
  return choice;
}
