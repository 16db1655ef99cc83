/**
 * One QEMU guest: started inside a network namespace (`ip netns exec`, which
 * execs QEMU in place, so the pid is QEMU's), with QEMU creating and holding
 * its TAP the way libvirt's QEMU does, a QMP socket and the command console
 * socket (guest-console.ts) in its run folder.
 *
 * Life cycle:
 *  - start(): spawn, connect QMP (by then QEMU has created the TAP), plug the
 *    TAP into a bridge when asked. The guest boots on its own; waitBooted()
 *    waits for its console shell. A migration destination (`incoming`) does
 *    not boot: it waits for the source's state (qemu-migration.ts).
 *  - stop(): QMP `quit`, then SIGTERM/SIGKILL if QEMU does not go.
 *  - kill(): SIGKILL (fault tests: a VM that dies mid-migration).
 *  - A VM started by this process (not `detached`) is SIGKILLed when the
 *    process exits, even on a crash or a signal (PR_SET_PDEATHSIG through
 *    setpriv, and an 'exit' handler that also removes its run folder).
 *  - A `detached` VM outlives this process (the lab): record() gives what
 *    open() needs to drive it again later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMac, isUnicastMac, parseMac } from '@dvs/wire';
import { ipBatch, runCommand } from '../command-runner.js';
import { LabError } from '../errors.js';
import { logTail, processStartTime } from '../process-control.js';
import { detectAcceleration } from './acceleration.js';
import { deadlineSignal } from './deadline.js';
import { GuestConsole, type ConsoleOptions, type ConsoleResult } from './guest-console.js';
import { ensureGuestImage, type GuestImage } from './guest-image.js';
import { guestKernelCommandLine, validateGuestConfig } from './guest-init.js';
import { qemuCommand, type QemuAccelerator } from './qemu-command.js';
import { QmpClient } from './qmp-client.js';

export interface QemuVmOptions {
  /** VM name: QEMU's -name and, unless `guest.name` says otherwise, the guest's hostname. */
  name: string;
  /** Network namespace QEMU runs in (its TAP is created there); null: the root namespace. */
  netns: string | null;
  /** TAP device QEMU creates and holds (at most 15 bytes). */
  tap: string;
  /** The guest NIC's MAC ("02:…", unicast). */
  mac: string;
  /** Guest address, gateway, MTU (also virtio-net host_mtu); the hostname defaults to `name`. */
  guest?: { ip?: string; gateway?: string; mtu?: number; name?: string };
  /** Enslave the TAP to this Linux bridge (in `netns`) and set it up. */
  bridge?: string;
  /** Set the TAP up (without a bridge). Default: true when `bridge` is given, else false. */
  tapUp?: boolean;
  /** Guest RAM in MiB (64..4096). Default 128. */
  memoryMb?: number;
  /** Virtio-net header on the TAP (checksum/GSO offloads). Default: QEMU's (on). */
  vnetHdr?: boolean;
  /** Start as a migration destination: QEMU waits for the source's state on a unix socket. */
  incoming?: boolean;
  /** Folder for sockets and logs. Default: a new temp folder, removed when the VM stops. */
  runDir?: string;
  /** Outlive this process (no exit-time kill); see record()/open(). */
  detached?: boolean;
  /** Default: ensureGuestImage(). */
  image?: GuestImage;
  /** Default: detectAcceleration(image). */
  accel?: QemuAccelerator;
  /** Firmware (-bios). Default: QEMU's own (SeaBIOS). A migration's two ends must match. */
  firmware?: string;
  signal?: AbortSignal;
}

/** What open() needs to drive a VM another process started (JSON-safe). */
export interface QemuVmRecord {
  name: string;
  netns: string | null;
  tap: string;
  mac: string;
  pid: number;
  /** Kernel start time of the pid (/proc/<pid>/stat field 22): never signal a recycled pid. */
  startTime: number;
  runDir: string;
  incoming: string | null;
  startedAtMs: number;
}

const TAP_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const liveVms = new Set<QemuVm>();
let exitHandlerInstalled = false;

function killLiveVmsOnExit(): void {
  for (const vm of liveVms) vm.killSync();
}

function validate(options: QemuVmOptions): void {
  const bad = (field: string, value: unknown, fix: string) =>
    new LabError('DVS_LAB_BAD_SPEC', `QEMU VM ${field} ${JSON.stringify(value)} is invalid: ${fix}`);
  if (!TAP_NAME.test(options.tap) || Buffer.byteLength(options.tap) > 15)
    throw bad('tap', options.tap, 'use 1 to 15 letters, digits, "_", "." or "-"');
  const mac = parseMac(options.mac);
  if (mac === null || !isUnicastMac(mac)) throw bad('mac', options.mac, 'give a unicast MAC such as 02:00:00:00:00:01');
  const memory = options.memoryMb ?? 128;
  if (!Number.isInteger(memory) || memory < 64 || memory > 4096)
    throw bad('memoryMb', memory, 'use an integer from 64 to 4096');
  validateGuestConfig({ ...options.guest, name: options.guest?.name ?? options.name });
}

export class QemuVm {
  readonly name: string;
  readonly netns: string | null;
  readonly tap: string;
  readonly mac: string;
  readonly runDir: string;
  readonly pid: number;
  readonly startTime: number;
  /** Migration URI this VM listens on (a destination), else null. */
  readonly incoming: string | null;
  /** When start() spawned QEMU (epoch ms). */
  readonly startedAtMs: number;
  /** Milliseconds from spawn to the console shell answering (set by waitBooted()). */
  bootMs: number | null = null;
  readonly qmp: QmpClient;
  private readonly child: ChildProcess | null;
  private readonly ownsRunDir: boolean;
  private consoleConnection: GuestConsole | null = null;

  private constructor(init: { record: QemuVmRecord; qmp: QmpClient; child: ChildProcess | null; ownsRunDir: boolean }) {
    const r = init.record;
    this.name = r.name;
    this.netns = r.netns;
    this.tap = r.tap;
    this.mac = r.mac;
    this.runDir = r.runDir;
    this.pid = r.pid;
    this.startTime = r.startTime;
    this.incoming = r.incoming;
    this.startedAtMs = r.startedAtMs;
    this.qmp = init.qmp;
    this.child = init.child;
    this.ownsRunDir = init.ownsRunDir;
  }

  get qmpSocket(): string {
    return join(this.runDir, 'qmp.sock');
  }
  get consoleSocket(): string {
    return join(this.runDir, 'console.sock');
  }
  /** Everything the guest wrote on its command console. */
  get consoleLog(): string {
    return join(this.runDir, 'console.log');
  }
  /** The guest kernel's console (ttyS0): boot messages, panics. */
  get serialLog(): string {
    return join(this.runDir, 'serial.log');
  }
  /** QEMU's own stdout/stderr. */
  get qemuLog(): string {
    return join(this.runDir, 'qemu.log');
  }

  /** Starts QEMU; resolves once QMP answers and the TAP exists (the guest is still booting). */
  static async start(options: QemuVmOptions): Promise<QemuVm> {
    validate(options);
    const signal = options.signal;
    const image = options.image ?? (await ensureGuestImage({ signal }));
    const accel = options.accel ?? (await detectAcceleration(image, { signal })).accel;
    const ownsRunDir = options.runDir === undefined;
    const runDir = options.runDir ?? (await mkdtemp(join(tmpdir(), `dvs-qemu-${options.name}-`)));
    await mkdir(runDir, { recursive: true });
    const mac = formatMac(parseMac(options.mac)!);
    const guestName = options.guest?.name ?? options.name;
    const incoming = options.incoming === true ? `unix:${join(runDir, 'incoming.sock')}` : null;
    const argv = qemuCommand({
      name: options.name,
      kernel: image.kernel,
      initrd: image.initrd,
      kernelCommandLine: guestKernelCommandLine({ ...options.guest, name: guestName }),
      accel,
      memoryMb: options.memoryMb ?? 128,
      qmpSocket: join(runDir, 'qmp.sock'),
      serialLog: join(runDir, 'serial.log'),
      commandConsole: { socket: join(runDir, 'console.sock'), log: join(runDir, 'console.log') },
      nic: { tap: options.tap, mac, mtu: options.guest?.mtu, vnetHdr: options.vnetHdr },
      incoming: incoming ?? undefined,
      firmware: options.firmware,
    });
    // Not detached: setpriv makes the kernel SIGKILL QEMU when this process dies
    // in any way (a signal skips the 'exit' handler); ip netns exec and setpriv
    // exec in place, so the pid is QEMU's either way.
    const guarded = options.detached === true ? argv : ['setpriv', '--pdeathsig', 'KILL', ...argv];
    const full = options.netns === null ? guarded : ['ip', 'netns', 'exec', options.netns, ...guarded];
    const logFd = openSync(join(runDir, 'qemu.log'), 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(full[0], full.slice(1), { stdio: ['ignore', logFd, logFd], detached: options.detached === true });
    } finally {
      closeSync(logFd);
    }
    child.on('error', () => undefined);
    const startedAtMs = Date.now();
    const failed = async (why: string, cause?: unknown): Promise<never> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const log = await logTail(join(runDir, 'qemu.log'));
      if (ownsRunDir) await rm(runDir, { recursive: true, force: true });
      throw new LabError('DVS_LAB_COMMAND_FAILED', `QEMU ${options.name}: ${why}\n${log}`, { cause });
    };
    const pid = child.pid;
    const startTime = pid === undefined ? null : await processStartTime(pid);
    if (pid === undefined || startTime === null) return failed('did not start');

    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const qmpSignal = deadlineSignal(signal, 30_000);
    const qmp = await Promise.race([
      QmpClient.connect(join(runDir, 'qmp.sock'), { signal: qmpSignal }),
      exited.then(() => null),
    ]).catch((err: unknown) => failed('QMP did not answer', err));
    if (qmp === null) return failed(`exited at start (${child.exitCode ?? child.signalCode})`);

    const record: QemuVmRecord = {
      name: options.name,
      netns: options.netns,
      tap: options.tap,
      mac,
      pid,
      startTime,
      runDir,
      incoming,
      startedAtMs,
    };
    const vm = new QemuVm({ record, qmp, child: options.detached === true ? null : child, ownsRunDir });
    if (options.detached === true) {
      child.unref();
    } else {
      liveVms.add(vm);
      if (!exitHandlerInstalled) {
        process.once('exit', killLiveVmsOnExit);
        exitHandlerInstalled = true;
      }
      void exited.then(() => liveVms.delete(vm));
    }
    try {
      const up = options.tapUp ?? options.bridge !== undefined;
      const lines = [
        ...(options.bridge !== undefined ? [`link set dev ${options.tap} master ${options.bridge}`] : []),
        ...(up ? [`link set dev ${options.tap} up`] : []),
      ];
      await ipBatch(options.netns, lines, { signal });
    } catch (err) {
      await vm.kill();
      throw err;
    }
    return vm;
  }

  /** Drives a VM from its record (started detached, maybe by another process); LabError DVS_LAB_NOT_FOUND when it is gone. */
  static async open(record: QemuVmRecord, options: { signal?: AbortSignal } = {}): Promise<QemuVm> {
    if ((await processStartTime(record.pid)) !== record.startTime)
      throw new LabError('DVS_LAB_NOT_FOUND', `QEMU ${record.name} (pid ${record.pid}) is not running`);
    const qmp = await QmpClient.connect(join(record.runDir, 'qmp.sock'), { signal: options.signal });
    return new QemuVm({ record, qmp, child: null, ownsRunDir: false });
  }

  record(): QemuVmRecord {
    return {
      name: this.name,
      netns: this.netns,
      tap: this.tap,
      mac: this.mac,
      pid: this.pid,
      startTime: this.startTime,
      runDir: this.runDir,
      incoming: this.incoming,
      startedAtMs: this.startedAtMs,
    };
  }

  /** The console connection (connected on first use; the guest may still be booting). */
  async console(options: ConsoleOptions = {}): Promise<GuestConsole> {
    if (this.consoleConnection === null || this.consoleConnection.isClosed)
      this.consoleConnection = await GuestConsole.connect(this.consoleSocket, options);
    return this.consoleConnection;
  }

  /** Waits until the guest's console shell answers; sets bootMs on the first success. */
  async waitBooted(options: ConsoleOptions = {}): Promise<GuestConsole> {
    const guest = await this.console(options);
    try {
      await guest.waitReady(options);
    } catch (err) {
      const log = await logTail(this.serialLog, 20);
      throw new LabError('DVS_LAB_TIMEOUT', `guest ${this.name} did not boot: ${(err as Error).message}\n${log}`, {
        cause: err,
      });
    }
    this.bootMs ??= Date.now() - this.startedAtMs;
    return guest;
  }

  /** Runs a shell command in the guest over its command console. */
  async exec(command: string, options: ConsoleOptions = {}): Promise<ConsoleResult> {
    try {
      return await (await this.console(options)).exec(command, options);
    } catch (err) {
      throw await this.withGuestKernelLog(err);
    }
  }

  /** QMP query-status: "running", "paused", "inmigrate", "postmigrate", … */
  async status(options: { signal?: AbortSignal } = {}): Promise<string> {
    try {
      const r = await this.qmp.execute<{ status: string }>('query-status', undefined, options);
      return r.status;
    } catch (err) {
      throw await this.withGuestKernelLog(err);
    }
  }

  /**
   * A guest that stops answering has often crashed (a panic ends QEMU:
   * -no-reboot); say so with the kernel's last lines and QEMU's, same code.
   */
  private async withGuestKernelLog(err: unknown): Promise<unknown> {
    if (!(err instanceof LabError)) return err;
    const serial = await logTail(this.serialLog, 15);
    const qemu = await logTail(this.qemuLog, 5);
    const state = (await this.isRunning()) ? 'QEMU is running' : 'QEMU has exited';
    return new LabError(
      err.code,
      `${err.message}\n  ${this.name}: ${state}; guest kernel:\n${serial}\n  QEMU:\n${qemu}`,
      {
        cause: err,
      },
    );
  }

  async isRunning(): Promise<boolean> {
    if (this.child !== null) return this.child.exitCode === null && this.child.signalCode === null;
    return (await processStartTime(this.pid)) === this.startTime;
  }

  /** Resolves when QEMU has exited; LabError DVS_LAB_TIMEOUT after timeoutMs. */
  async waitExit(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await this.isRunning()) {
      if (Date.now() > deadline)
        throw new LabError('DVS_LAB_TIMEOUT', `QEMU ${this.name} (pid ${this.pid}) did not exit`);
      await sleep(20);
    }
  }

  /** True while the TAP exists in the VM's namespace (it vanishes with QEMU). */
  async tapExists(): Promise<boolean> {
    const argv =
      this.netns === null
        ? ['ip', 'link', 'show', 'dev', this.tap]
        : ['ip', '-n', this.netns, 'link', 'show', 'dev', this.tap];
    return (await runCommand(argv, { allowFailure: true })).code === 0;
  }

  private signalQemu(sig: NodeJS.Signals): void {
    try {
      if (this.child !== null) this.child.kill(sig);
      else process.kill(this.pid, sig);
    } catch {
      // Already gone.
    }
  }

  /** Clean shutdown: QMP quit, then SIGTERM and SIGKILL after graceMs each. Removes an own run folder. */
  async stop(graceMs = 5000): Promise<void> {
    if (await this.isRunning()) {
      await this.qmp.execute('quit', undefined, { timeoutMs: graceMs }).catch(() => undefined);
      for (const sig of [null, 'SIGTERM', 'SIGKILL'] as const) {
        if (sig !== null) this.signalQemu(sig);
        try {
          await this.waitExit(graceMs);
          break;
        } catch (err) {
          if (sig === 'SIGKILL') throw err;
        }
      }
    }
    await this.release();
  }

  /** SIGKILL now (a crash, for fault tests); resolves when QEMU is gone. Removes an own run folder. */
  async kill(): Promise<void> {
    if (await this.isRunning()) {
      this.signalQemu('SIGKILL');
      await this.waitExit();
    }
    await this.release();
  }

  private async release(): Promise<void> {
    this.consoleConnection?.close();
    this.qmp.close();
    liveVms.delete(this);
    if (this.ownsRunDir) await rm(this.runDir, { recursive: true, force: true });
  }

  /** For the process 'exit' handler: synchronous SIGKILL and run-folder removal. */
  killSync(): void {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null)
      this.child.kill('SIGKILL');
    if (this.ownsRunDir) rmSync(this.runDir, { recursive: true, force: true });
  }
}
