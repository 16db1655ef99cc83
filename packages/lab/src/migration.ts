/**
 * Live migration the way QEMU does it, on the lab's namespaces:
 *
 *  1. the destination agent gets a new port (`ports/add`), a TAP the lab moves
 *     into the VM's namespace with the VM's MAC, link down ("QEMU on the
 *     destination is started and waits for the incoming state");
 *  2. switchover, one `ip -batch` in the VM: old NIC down and its address gone,
 *     new NIC up with the same address, routes and neighbour entries ("the
 *     guest resumes on the destination with its state");
 *  3. the source agent removes the old port (`ports/del`: QEMU on the source
 *     exits and its TAP closes), while the destination announces the MAC with
 *     QEMU's self-announce schedule: 5 RARP rounds, the first at once, gaps of
 *     50 ms growing by 100 ms (0, 50, 200, 450, 800 ms), through the agent's
 *     `ports/announce <port> <mac>`.
 *
 * Then every agent's FDB, every kernel host's and the controller's table are
 * polled until they place the MAC on the destination, and watched a little
 * longer for flaps back.
 */
import { LabError } from './errors.js';
import type { Lab } from './lab.js';
import { devices } from './lab-layout.js';
import type { VmState } from './lab-state.js';
import { runInNamespace } from './command-runner.js';
import { IpBatchSession } from './ip-batch-session.js';
import { plugVmNic } from './agent-host.js';
import { activateInterfaceLines, neighbourCopyLines, prepareInterfaceLines } from './vm-interface.js';
import { ABSENT, macObservers, type MacLocation, type MacObserver } from './mac-location.js';
import type { ContinuousPing } from './continuous-ping.js';
import { pingWindowFigures } from './continuous-ping.js';

/** QEMU's announce defaults (qemu/net/announce.c): initial 50 ms, step 100 ms, 5 rounds, max 550 ms. */
export const QEMU_ANNOUNCE = { rounds: 5, initialMs: 50, stepMs: 100, maxMs: 550 } as const;

/** Offsets (ms after switchover) at which QEMU sends its RARP rounds. */
export function qemuAnnounceOffsets(
  p: { rounds: number; initialMs: number; stepMs: number; maxMs: number } = QEMU_ANNOUNCE,
): number[] {
  const out = [0];
  let at = 0;
  for (let round = 1; round < p.rounds; round++) {
    at += Math.min(p.initialMs + (round - 1) * p.stepMs, p.maxMs);
    out.push(at);
  }
  return out;
}

export interface ObserverResult {
  name: string;
  kind: MacObserver['kind'];
  /** ms after switchover from which it placed the MAC on the destination for good; null: never. */
  convergedMs: number | null;
  /** Times it placed the MAC back on the source after having placed it on the destination. */
  flaps: number;
  final: MacLocation;
  errors: number;
}

/** QEMU's own figures of a real live migration, and what happened to the source's port. */
export interface QemuMoveFigures {
  /** query-migrate `downtime`: how long QEMU paused the VM for the final copy, as QEMU counts it (ms). */
  downtimeMs: number;
  /** query-migrate `total-time` (ms). */
  totalTimeMs: number;
  setupTimeMs: number;
  transferredBytes: number;
  /** QMP STOP on the source and RESUME on the destination (epoch ms): the VM could not answer in between. */
  pausedAtMs: number | null;
  resumedAtMs: number;
  /** resumedAtMs - pausedAtMs: the whole pause the network saw. */
  pausedMs: number | null;
  /** The source agent's view of the old port once QEMU had quit, before the lab released it (`gone` expected). */
  sourcePortState: string | null;
  /** Time from the resume until every VTEP (agents, kernel hosts) and the controller placed the MAC on the destination. */
  allConvergedMs: number | null;
}

export interface MigrationReport {
  vm: string;
  mac: string;
  vni: number;
  from: string;
  to: string;
  /** Epoch ms when the switchover finished (the VM's new NIC up). */
  switchoverAt: number;
  /** How the destination announced the MAC. */
  announce: string;
  announceRounds: number;
  observers: ObserverResult[];
  /** Max over agents and kernel hosts; null when one never converged. */
  agentsConvergedMs: number | null;
  /** The controller's table; null when it never did (or there is no controller). */
  controllerConvergedMs: number | null;
  flaps: number;
  /** Does the source agent still place the MAC on its own port at the end? */
  oldHostHoldsMac: boolean;
  /**
   * The continuous ping from the start of the migration (destination port
   * added) to the end of the watch; baselineGapMs is the longest gap in the
   * second before it started: what this machine's scheduling alone costs.
   */
  ping: {
    lost: number;
    longestGapMs: number;
    /** When the longest gap began, ms relative to the switchover (negative: before it). */
    longestGapAtMs: number | null;
    duplicates: number;
    received: number;
    baselineGapMs: number;
    /** QEMU moves: requests lost because they reached the VM while it was paused (QEMU's downtime). */
    lostDuringDowntime?: number;
    /** QEMU moves: requests lost outside that pause — what the network (dvs) added. */
    lostBeyondDowntime?: number;
  } | null;
  /** A real QEMU live migration; absent for a namespace VM's move. */
  qemu?: QemuMoveFigures;
  notes: string[];
}

export interface MigrateOptions {
  /** A running continuous ping whose replies cover the move. */
  ping?: ContinuousPing;
  /** How long to keep watching after everyone converged (flaps). Default 1000 ms. */
  holdMs?: number;
  /** Give up waiting for convergence after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** Poll interval of the FDB observers. Default 10 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * A move's figures of a continuous ping over [startedAt, end): losses, the
 * longest gap (and when it began, from t0, the switchover), duplicates, and
 * the longest gap of the same ping in the second before the move.
 */
export function movePingFigures(
  ping: ContinuousPing,
  startedAt: number,
  end: number,
  t0: number,
): NonNullable<MigrationReport['ping']> {
  const w = pingWindowFigures(ping, startedAt, end);
  return {
    lost: w.lost,
    longestGapMs: w.longestGapMs,
    longestGapAtMs: w.longestGapFromMs === null ? null : w.longestGapFromMs - t0,
    duplicates: w.duplicates,
    received: w.received,
    baselineGapMs: pingWindowFigures(ping, startedAt - 1000, startedAt).longestGapMs,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function announceWithAgent(lab: Lab, host: string, port: string, mac: string, offsets: number[], t0: number) {
  for (const at of offsets) {
    const wait = t0 + at - Date.now();
    if (wait > 0) await sleep(wait);
    await lab.admin(host).call('ports/announce', [port, mac]);
  }
}

/** Does the agent register `ports/announce`? */
async function agentCanAnnounce(lab: Lab, host: string): Promise<boolean> {
  try {
    const { data } = await lab.admin(host).call('list-commands');
    return Array.isArray(data) && data.some((c: { name?: unknown }) => c?.name === 'ports/announce');
  } catch {
    return false;
  }
}

export async function migrateVm(
  lab: Lab,
  vmName: string,
  toHost: string,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const vm: VmState = lab.vm(vmName);
  const from = lab.host(vm.host);
  const to = lab.host(toHost);
  if (from.kind !== 'dvs' || to.kind !== 'dvs') {
    throw new LabError(
      'DVS_LAB_BAD_SPEC',
      `migrate: both hosts must be dvs hosts (${vm.name} is on ${from.name}, target ${to.name})`,
    );
  }
  if (from.name === to.name) throw new LabError('DVS_LAB_BAD_SPEC', `migrate: ${vm.name} already runs on ${to.name}`);
  const notes: string[] = [];
  const oldIf = vm.ifname;
  const generation = vm.generation + 1;
  const newIf = devices.vmTap(lab.id, vm.number, generation);
  const startedAt = Date.now();
  const canAnnounce = await agentCanAnnounce(lab, to.name);

  // 1. Destination port, moved into the VM, MAC set, link down. A failure
  // before the switchover removes the new port again: the VM never left.
  const session = new IpBatchSession(vm.netns);
  let neighbours: string[];
  try {
    await plugVmNic(lab.state, to, vm, lab.admin(to.name), newIf);
    neighbours = await neighbourCopyLines(vm, oldIf, newIf);
    // The VM's `ip` session runs before the switchover: switching costs no process start.
    await session.run(prepareInterfaceLines(vm, newIf));
    if (!canAnnounce) {
      // Without the agent's RARP, the guest announces itself (gratuitous ARP on link up).
      await runInNamespace(vm.netns, ['sysctl', '-q', '-w', `net.ipv4.conf.${newIf}.arp_notify=1`]);
      notes.push(
        `${to.name} agent has no ports/announce: the guest's gratuitous ARP (arp_notify) announced the MAC instead of QEMU RARP`,
      );
    }
  } catch (e) {
    session.close();
    await lab
      .admin(to.name)
      .call('ports/del', [newIf])
      .catch(() => undefined);
    throw e;
  }
  const observers = macObservers(lab, vm.vni, vm.mac);

  // 2. Switchover. Times count from the moment the new NIC is up (the guest
  // resumed on the destination), as QEMU's announce timer does.
  const switchLines = [
    `link set ${oldIf} down`,
    `addr flush dev ${oldIf}`,
    ...activateInterfaceLines(vm, newIf),
    ...neighbours,
  ];
  try {
    await session.run(switchLines);
  } finally {
    session.close();
  }
  const t0 = Date.now();

  // 3. Announce from the destination; the source lets go of its port.
  const offsets = qemuAnnounceOffsets();
  const announcing = canAnnounce ? announceWithAgent(lab, to.name, newIf, vm.mac, offsets, t0) : Promise.resolve();
  const releasing = lab.admin(from.name).call('ports/del', [oldIf]);
  vm.host = to.name;
  vm.ifname = newIf;
  vm.generation = generation;
  await lab.save();

  // Settled at once (handlers attached now): a failure is reported, never an unhandled rejection.
  const background = Promise.allSettled([announcing, releasing]);
  const watched = await watchConvergence(observers, from.name, to.name, t0, options);
  const [announced, released] = await background;
  if (announced.status === 'rejected') notes.push(`announce failed: ${(announced.reason as Error).message}`);
  if (released.status === 'rejected') {
    notes.push(`ports/del ${oldIf} on ${from.name} failed: ${(released.reason as Error).message}`);
  }
  const figures = options.ping ? movePingFigures(options.ping, startedAt, Date.now(), t0) : null;

  // Agents that follow etcd follow only the VNIs they have ports in: a host left with no VM in
  // the VNI (the source, when this was its last) drops its FDB, and takes no frame of it.
  const follows = (host: string): boolean =>
    !lab.state.agentsUseEtcd || lab.state.vms.some((v) => v.host === host && v.vni === vm.vni);
  const dataPlane = watched.filter((o) => o.kind === 'kernel' || (o.kind === 'agent' && follows(o.name)));
  for (const o of watched) {
    if (o.kind === 'agent' && !follows(o.name)) notes.push(`${o.name} has no port left in VNI ${vm.vni}: not counted`);
  }
  const controller = watched.find((o) => o.kind === 'controller');
  if (!controller) notes.push('no controller table fed by the agents in this lab: table convergence not measured');
  return {
    vm: vm.name,
    mac: vm.mac,
    vni: vm.vni,
    from: from.name,
    to: to.name,
    switchoverAt: t0,
    announce: canAnnounce ? 'agent ports/announce (QEMU RARP schedule)' : 'guest gratuitous ARP',
    announceRounds: canAnnounce ? offsets.length : 0,
    observers: watched.filter((o) => o.kind !== 'agent' || follows(o.name)),
    agentsConvergedMs: dataPlane.some((o) => o.convergedMs === null)
      ? null
      : Math.max(0, ...dataPlane.map((o) => o.convergedMs ?? 0)),
    controllerConvergedMs: controller?.convergedMs ?? null,
    flaps: watched.reduce((a, o) => a + o.flaps, 0),
    oldHostHoldsMac: watched.find((o) => o.name === from.name)?.final === from.name,
    ping: figures,
    notes,
  };
}

/**
 * Polls every observer, each in its own loop (a slow one, like a kernel host
 * read through `bridge`, never delays a fast one), until each has placed the
 * MAC on the destination and kept it there for holdMs, or timeoutMs passed.
 */
export async function watchConvergence(
  observers: MacObserver[],
  fromHost: string,
  toHost: string,
  t0: number,
  options: MigrateOptions = {},
): Promise<ObserverResult[]> {
  const holdMs = options.holdMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pollMs = options.pollMs ?? 10;
  const results = observers.map<ObserverResult & { seenDest: boolean }>((o) => ({
    name: o.name,
    kind: o.kind,
    convergedMs: null,
    flaps: 0,
    final: ABSENT,
    errors: 0,
    seenDest: false,
  }));
  let stop = false;
  const loops = observers.map(async (o, i) => {
    const r = results[i];
    while (!stop && !options.signal?.aborted) {
      const started = Date.now();
      try {
        const where = await o.locate();
        const at = Date.now() - t0;
        if (where === toHost) {
          if (r.convergedMs === null) r.convergedMs = at;
          r.seenDest = true;
        } else {
          if (r.seenDest && where === fromHost) r.flaps++;
          r.convergedMs = null;
        }
        r.final = where;
      } catch {
        r.errors++;
      }
      const wait = pollMs - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  });
  let allSince: number | null = null;
  while (!options.signal?.aborted) {
    await sleep(pollMs);
    const now = Date.now();
    if (results.every((r) => r.convergedMs !== null)) {
      allSince ??= now;
      if (now - allSince >= holdMs) break;
    } else {
      allSince = null;
    }
    if (now - t0 > timeoutMs + holdMs) break;
  }
  stop = true;
  await Promise.all(loops);
  return results.map(({ seenDest: _seen, ...r }) => r);
}
