/**
 * A real live migration of a lab QEMU VM to another host, the way libvirt
 * runs one between two hypervisor hosts:
 *
 *  1. The destination QEMU starts on the destination host with `-incoming`
 *     (a unix socket in its run folder), creating its own TAP there, and the
 *     destination agent attaches that TAP right away — what libvirt's
 *     `<script>` (deploy/qemu/dvs-ifup) does when QEMU starts, before the
 *     switchover.
 *  2. The source QEMU migrates into it over QMP (`migrate`, then
 *     `query-migrate` until `completed`: qemu/qemu-migration.ts). QEMU
 *     pauses the VM for its final copy (QMP STOP on the source), resumes it
 *     on the destination (QMP RESUME) and announces it with its own RARP
 *     rounds. The lab sends nothing on the VM's behalf.
 *  3. The source QEMU quits; its TAP disappears and the source agent's port
 *     goes `gone` (recorded in the report); then the lab removes that port
 *     (`ports/del`), as libvirt's release hook (deploy/qemu/dvs-libvirt-hook)
 *     does once QEMU has exited.
 *
 * Meanwhile every agent, kernel host and the controller is polled for where
 * it places the VM's MAC (migration.ts watchConvergence); times count from
 * QEMU's RESUME. A continuous ping's losses are split into those that met
 * the paused VM (QEMU's downtime) and the rest (what the network added).
 *
 * When the migration fails (QEMU says so, or a QEMU dies in the middle), the
 * destination QEMU is stopped and its port removed; the VM stays where it
 * was (dead, if its own QEMU died), and the error is rethrown.
 */
import { LabError } from './errors.js';
import type { Lab } from './lab.js';
import { devices } from './lab-layout.js';
import type { QemuVmState } from './lab-state.js';
import { openQemuVm, startQemuOnHost } from './lab-qemu.js';
import { macObservers, type MacObserver } from './mac-location.js';
import {
  movePingFigures,
  watchConvergence,
  type MigrateOptions,
  type MigrationReport,
  type ObserverResult,
} from './migration.js';
import { pingLossAcrossPause } from './continuous-ping.js';
import { migrateQemu, type QemuMigrationOptions, type QemuMigrationResult } from './qemu/qemu-migration.js';
import type { QemuVm } from './qemu/qemu-vm.js';

export interface QemuMigrateOptions extends MigrateOptions {
  /** QEMU's migration settings (bandwidth, downtime limit, timeout). */
  qemu?: Pick<QemuMigrationOptions, 'maxBandwidth' | 'downtimeLimitMs' | 'timeoutMs'>;
  /** Called once the copy is under way, with both QEMUs (fault tests kill one here). */
  onMigrating?: (source: QemuVm, destination: QemuVm) => void | Promise<void>;
  /** Who is asked where the MAC is. Default: every agent, the kernel hosts of a VXLAN VNI, the controller. */
  observers?: MacObserver[];
}

/** The state of a port in an agent's `ports/show`, or null when it has no such port. */
export async function agentPortState(lab: Lab, host: string, port: string): Promise<string | null> {
  const { data } = await lab.admin(host).call('ports/show');
  return data.find((p) => p.name === port)?.state ?? null;
}

/** Polls until the port is in one of `states` (or absent), for up to about 5 s; returns the last state seen. */
async function waitPortState(lab: Lab, host: string, port: string, states: readonly string[]): Promise<string | null> {
  let state = await agentPortState(lab, host, port);
  for (let i = 0; i < 250 && state !== null && !states.includes(state); i++) {
    await new Promise((r) => setTimeout(r, 20));
    state = await agentPortState(lab, host, port);
  }
  return state;
}

/** Stops a destination QEMU that will not take over, and unplugs its TAP. */
async function abandonDestination(lab: Lab, vm: QemuVmState, destination: QemuVm, toHost: string): Promise<void> {
  await destination.kill().catch(() => undefined);
  if (lab.host(toHost).kind === 'dvs')
    await lab
      .admin(toHost)
      .call('ports/del', [destination.tap])
      .catch(() => undefined);
  vm.incoming = undefined;
  await lab.save();
}

export async function migrateQemuVm(
  lab: Lab,
  vmName: string,
  toHost: string,
  options: QemuMigrateOptions = {},
): Promise<MigrationReport> {
  const vm = lab.qemuVm(vmName);
  const from = lab.host(vm.host);
  const to = lab.host(toHost);
  if (from.name === to.name) throw new LabError('DVS_LAB_BAD_SPEC', `migrate: ${vm.name} already runs on ${to.name}`);
  if (from.kind !== to.kind)
    throw new LabError(
      'DVS_LAB_BAD_SPEC',
      `migrate: ${vm.name} runs on ${from.kind} host ${from.name}; move it to another ${from.kind} host, not to ${to.kind} host ${to.name}`,
    );
  const notes: string[] = [];
  const source = await openQemuVm(vm.qemu, options.signal);
  const generation = vm.generation + 1;
  const newTap = devices.qemuTap(lab.id, vm.index, generation);
  const oldTap = vm.tap;
  const startedAt = Date.now();
  let destination: QemuVm | null = null;
  const watchAbort = new AbortController();
  try {
    // 1. The destination QEMU waits for the VM; its TAP is attached before the switchover.
    destination = await startQemuOnHost(lab.id, to, vm, newTap, to.kind === 'dvs' ? lab.admin(to.name) : null, {
      incoming: true,
      signal: options.signal,
      onStarted: async (record) => {
        vm.incoming = record;
        await lab.save();
      },
    });
    const dest = destination;
    const observers = options.observers ?? macObservers(lab, vm.vni, vm.mac);
    const watching = watchConvergence(observers, from.name, to.name, startedAt, {
      ...options,
      timeoutMs: 24 * 3600_000,
      signal: options.signal ? AbortSignal.any([options.signal, watchAbort.signal]) : watchAbort.signal,
    });
    // Settled at once: a failed migration never leaves an unhandled rejection behind.
    void watching.catch(() => undefined);

    // 2. QEMU's live migration; QEMU announces the VM itself. 3. The source QEMU quits.
    let result: QemuMigrationResult;
    try {
      result = await migrateQemu(source, dest, {
        ...options.qemu,
        signal: options.signal,
        onStarted: () => options.onMigrating?.(source, dest),
      });
    } catch (err) {
      watchAbort.abort();
      await watching.catch(() => undefined);
      await abandonDestination(lab, vm, dest, to.name);
      if (!(await source.isRunning())) notes.push(`${vm.name}'s source QEMU is gone: the VM is lost`);
      throw err;
    }
    const stopWatch = setTimeout(
      () => watchAbort.abort(),
      Math.max(0, result.destinationResumedAtMs + (options.timeoutMs ?? 5000) + (options.holdMs ?? 1000) - Date.now()),
    );
    vm.host = to.name;
    vm.tap = newTap;
    vm.generation = generation;
    vm.qemu = dest.record();
    vm.incoming = undefined;
    await lab.save();

    // The source's TAP went with its QEMU: the agent's port is gone; release it as libvirt's hook would.
    let sourcePortState: string | null = null;
    if (from.kind === 'dvs') {
      sourcePortState = await waitPortState(lab, from.name, oldTap, ['gone']);
      await lab
        .admin(from.name)
        .call('ports/del', [oldTap])
        .catch((e: Error) => notes.push(`ports/del ${oldTap} on ${from.name} failed: ${e.message}`));
    }
    if (!result.sourceQuit) notes.push(`the source QEMU of ${vm.name} did not quit, or its TAP ${oldTap} stayed`);

    let watched: ObserverResult[];
    try {
      watched = await watching;
    } finally {
      clearTimeout(stopWatch);
    }
    const t0 = result.destinationResumedAtMs;
    const rebase = t0 - startedAt;
    const observed = watched.map((o) => ({
      ...o,
      convergedMs: o.convergedMs === null ? null : o.convergedMs - rebase,
    }));
    return report(vm, from.name, to.name, t0, startedAt, result, observed, sourcePortState, notes, options);
  } catch (err) {
    watchAbort.abort();
    throw err;
  } finally {
    source.disconnect();
    destination?.disconnect();
  }
}

function report(
  vm: QemuVmState,
  from: string,
  to: string,
  t0: number,
  startedAt: number,
  result: QemuMigrationResult,
  observers: ObserverResult[],
  sourcePortState: string | null,
  notes: string[],
  options: QemuMigrateOptions,
): MigrationReport {
  let ping: MigrationReport['ping'] = null;
  if (options.ping) {
    const end = Date.now();
    const paused = result.sourcePausedAtMs ?? t0;
    const split = pingLossAcrossPause(options.ping, startedAt, end, paused, t0);
    ping = {
      ...movePingFigures(options.ping, startedAt, end, t0),
      lost: split.lost,
      lostDuringDowntime: split.lostDuringPause,
      lostBeyondDowntime: split.lostBeyondPause,
    };
  }
  if (result.sourcePausedAtMs === null)
    notes.push('no QMP STOP seen on the source: the pause is taken as starting at the resume');
  const dataPlane = observers.filter((o) => o.kind !== 'controller');
  const controller = observers.find((o) => o.kind === 'controller');
  const all = observers.some((o) => o.convergedMs === null)
    ? null
    : Math.max(0, ...observers.map((o) => o.convergedMs ?? 0));
  return {
    vm: vm.name,
    mac: vm.mac,
    vni: vm.vni,
    from,
    to,
    switchoverAt: t0,
    announce: "QEMU's own self-announce (RARP), nothing sent by the lab",
    announceRounds: 0,
    observers,
    agentsConvergedMs: dataPlane.some((o) => o.convergedMs === null)
      ? null
      : Math.max(0, ...dataPlane.map((o) => o.convergedMs ?? 0)),
    controllerConvergedMs: controller?.convergedMs ?? null,
    flaps: observers.reduce((a, o) => a + o.flaps, 0),
    oldHostHoldsMac: observers.find((o) => o.name === from)?.final === from,
    ping,
    qemu: {
      downtimeMs: result.downtimeMs,
      totalTimeMs: result.totalTimeMs,
      setupTimeMs: result.setupTimeMs,
      transferredBytes: result.transferredBytes,
      pausedAtMs: result.sourcePausedAtMs,
      resumedAtMs: t0,
      pausedMs: result.sourcePausedAtMs === null ? null : t0 - result.sourcePausedAtMs,
      sourcePortState,
      allConvergedMs: all,
    },
    notes,
  };
}
