/**
 * The authoritative tables as a pure function of what agents and operators
 * put in etcd: networks, live hosts, their ports and MAC reports, the current
 * FDB (for static entries, mobility and duplicates) and the mobility history.
 * No I/O, no clock: `now` is an input, so tests drive it with fakes.
 *
 * FDB, per (vni, mac), for networks that exist:
 *  1. A static entry (set through the API) stays as it is; reports are ignored.
 *  2. Otherwise the claims are the reports of live hosts. The winner has the
 *     highest seq; ties go to the lowest VTEP address (then port, then host id),
 *     so every replica and every agent agrees on one outcome.
 *  3. No claim left: the entry is removed (its host died or aged the MAC out).
 *  4. A winner at another host than the current entry is a move, dampened as
 *     mobility.ts says; a duplicate stays frozen at its last location.
 *  5. IPs: an entry carries its winning report's IPs, except those another
 *     MAC of the VNI holds first (ip-conflicts.ts).
 * Flood list, per network: every live host with a port whose device is there
 * (state up or down, not gone) or a report in the VNI, plus the network's
 * external VTEPs, sorted by VTEP (one member per VTEP: the lowest host id
 * when hosts share one).
 *
 * A report marked `stale` (its host lost its etcd lease; view/stale-hosts.ts)
 * is a claim like any other; an entry it wins is marked `stale`, and its host
 * stays in flood lists. `computeFdb` and `computeFlood` are the two halves:
 * the leader's incremental tables (incremental-tables.ts) call them on the
 * MACs and VNIs that changed.
 */
import {
  compareVteps,
  hostVtepFor,
  type FdbEntryRecord,
  type FloodListRecord,
  type FloodMember,
  type HostRecord,
  type NetworkRecord,
  type PortRecord,
  type ReportRecord,
} from '@dvs/wire';
import { resolveIpConflicts } from './ip-conflicts.js';
import { pruneMoves, type DampeningOptions, type MacMobility, type MobilityState } from './mobility.js';

/** A report as the tables use it: `stale` when its host lost its lease and the claim is kept. */
export type TableReport = ReportRecord & { stale?: boolean };

export interface TableInputs {
  networks: ReadonlyMap<number, NetworkRecord>;
  /** Live hosts (their lease holds), and stale ones (their last record). */
  hosts: ReadonlyMap<string, HostRecord>;
  ports: readonly PortRecord[];
  reports: readonly TableReport[];
  /** Current authoritative FDB keyed by `${vni}/${mac}`. */
  fdb: ReadonlyMap<string, FdbEntryRecord>;
  /** Current flood lists (to keep `updatedAt` when nothing changed). */
  flood: ReadonlyMap<number, FloodListRecord>;
  mobility: MobilityState;
  dampening: DampeningOptions;
  now: number;
}

export interface MacMove {
  vni: number;
  mac: string;
  from: string | null;
  to: string;
  seq: number;
  /** True when this move was refused because the MAC is (now) duplicate. */
  frozen: boolean;
}

export interface TableOutputs {
  fdb: Map<string, FdbEntryRecord>;
  flood: Map<number, FloodListRecord>;
  mobility: Map<string, MacMobility>;
  /** Moves decided in this computation (for logs and metrics). */
  moves: MacMove[];
}

export function fdbKeyOf(vni: number, mac: string): string {
  return `${vni}/${mac}`;
}

interface Claim {
  report: TableReport;
  host: HostRecord;
  /** The host's VTEP for the network's encapsulation. */
  vtep: { address: string; port: number };
}

/** Orders claims best first: highest seq, then lowest VTEP, then lowest host id. */
export function compareClaims(a: Claim, b: Claim): number {
  if (a.report.seq !== b.report.seq) return b.report.seq - a.report.seq;
  const byVtep = compareVteps(a.vtep, b.vtep);
  if (byVtep !== 0) return byVtep;
  return a.report.host < b.report.host ? -1 : a.report.host > b.report.host ? 1 : 0;
}

export function computeTables(input: TableInputs): TableOutputs {
  return { ...computeFdb(input), flood: computeFlood(input) };
}

/** The FDB half: entries, mobility and moves for every (vni, mac) in `reports` and `fdb` (ports unused). */
export function computeFdb(input: Omit<TableInputs, 'ports' | 'flood'>): Omit<TableOutputs, 'flood'> {
  const claims = new Map<string, Claim[]>();
  for (const report of input.reports) {
    const host = input.hosts.get(report.host);
    const network = input.networks.get(report.vni);
    if (host === undefined || network === undefined) continue;
    const claim = { report, host, vtep: hostVtepFor(host, network.encap) };
    const key = fdbKeyOf(report.vni, report.mac);
    const list = claims.get(key);
    if (list === undefined) claims.set(key, [claim]);
    else list.push(claim);
  }

  const fdb = new Map<string, FdbEntryRecord>();
  const mobility = new Map<string, MacMobility>();
  const moves: MacMove[] = [];

  for (const [key, entry] of input.fdb) {
    if (entry.origin === 'static' && input.networks.has(entry.vni)) fdb.set(key, entry);
  }

  for (const [key, list] of claims) {
    if (fdb.has(key)) continue; // static wins
    list.sort(compareClaims);
    const decided = decide(key, list, input, moves);
    fdb.set(key, decided.entry);
    mobility.set(key, decided.mobility);
  }

  resolveIpConflicts(fdb, input.fdb);

  // Entries removed now for lack of claims keep their history a window (see mobility.ts).
  for (const [key, entry] of input.fdb) {
    if (entry.origin !== 'report' || fdb.has(key)) continue;
    const prior = input.mobility.get(key);
    mobility.set(key, {
      moveTimes: pruneMoves(prior?.moveTimes ?? [], input.now, input.dampening.windowMs),
      lastClaim: prior?.lastClaim ?? { host: entry.host ?? '', seq: entry.seq },
      lastAttemptAt: prior?.lastAttemptAt ?? entry.updatedAt,
      orphanedAt: input.now,
      duplicate: entry.duplicate,
    });
  }
  for (const [key, m] of input.mobility) {
    if (mobility.has(key) || input.fdb.has(key) || m.orphanedAt === null) continue;
    if (input.now - m.orphanedAt < input.dampening.windowMs) mobility.set(key, m);
  }

  return { fdb, mobility, moves };
}

function entryFrom(claim: Claim, now: number, moves: number): FdbEntryRecord {
  return {
    vni: claim.report.vni,
    mac: claim.report.mac,
    host: claim.report.host,
    vtep: { address: claim.vtep.address, port: claim.vtep.port },
    seq: claim.report.seq,
    ips: [...claim.report.ips],
    origin: 'report',
    moves,
    duplicate: false,
    reason: '',
    updatedAt: now,
    ...(claim.report.stale === true ? { stale: true } : {}),
  };
}

/** Keeps `previous.updatedAt` when nothing but the time would change, so an unchanged entry is never rewritten. */
function settle(previous: FdbEntryRecord | undefined, next: FdbEntryRecord): FdbEntryRecord {
  if (previous !== undefined && sameFdbEntry(previous, next)) return previous;
  return next;
}

/** `claims` is sorted best first and not empty. */
function decide(
  key: string,
  claims: readonly Claim[],
  input: Omit<TableInputs, 'ports' | 'flood'>,
  moves: MacMove[],
): { entry: FdbEntryRecord; mobility: MacMobility } {
  const { now, dampening } = input;
  const winner = claims[0]!;
  const claim = { host: winner.report.host, seq: winner.report.seq };
  const previous = input.fdb.get(key)?.origin === 'report' ? input.fdb.get(key) : undefined;
  const prior = input.mobility.get(key);
  // History continues while the entry exists, or across a gap the leader made itself.
  const continuing =
    previous !== undefined
      ? prior?.orphanedAt == null
      : prior?.orphanedAt != null && now - prior.orphanedAt < dampening.windowMs;
  const base = continuing ? prior : undefined;
  const location =
    previous !== undefined ? { host: previous.host ?? '', seq: previous.seq } : (base?.lastClaim ?? null);
  const fresh: MacMobility = {
    moveTimes: [],
    lastClaim: claim,
    lastAttemptAt: now,
    orphanedAt: null,
    duplicate: false,
  };
  if (location === null) return { entry: entryFrom(winner, now, 0), mobility: fresh };

  const history: MacMobility = {
    moveTimes: pruneMoves(base?.moveTimes ?? [], now, dampening.windowMs),
    lastClaim: base?.lastClaim ?? location,
    lastAttemptAt: base?.lastAttemptAt ?? previous?.updatedAt ?? now,
    orphanedAt: null,
    duplicate: previous?.duplicate ?? base?.duplicate ?? false,
  };
  const newClaim =
    history.lastClaim === null || history.lastClaim.host !== claim.host || history.lastClaim.seq !== claim.seq;
  history.lastClaim = claim;
  const record = (to: string, frozen: boolean): void => {
    moves.push({ vni: winner.report.vni, mac: winner.report.mac, from: location.host, to, seq: claim.seq, frozen });
  };
  const reason = (count: number, at: string): string =>
    `duplicate: ${count} moves in ${Math.round(dampening.windowMs / 1000)} s (limit ${dampening.maxMoves}), frozen at ${at}`;

  if (history.duplicate) {
    if (!newClaim && now - history.lastAttemptAt >= dampening.windowMs) {
      return { entry: entryFrom(winner, now, 0), mobility: fresh }; // quiet for a whole window: released
    }
    if (newClaim && winner.report.host !== location.host) {
      history.lastAttemptAt = now;
      record(claim.host, true);
    }
    if (previous !== undefined && claims.some((c) => c.report.host === previous.host)) {
      return { entry: previous, mobility: history }; // frozen where it is
    }
    // The frozen location stopped claiming it: follow the remaining claim, still duplicate.
    const count = Math.max(history.moveTimes.length, dampening.maxMoves + 1);
    const follow = { ...entryFrom(winner, now, count), duplicate: true, reason: reason(count, winner.report.host) };
    return { entry: settle(previous, follow), mobility: history };
  }

  if (winner.report.host === location.host) {
    return { entry: settle(previous, entryFrom(winner, now, history.moveTimes.length)), mobility: history };
  }

  // A move.
  const moveTimes = [...history.moveTimes, now];
  const moved: MacMobility = { moveTimes, lastClaim: claim, lastAttemptAt: now, orphanedAt: null, duplicate: false };
  if (moveTimes.length > dampening.maxMoves) {
    moved.duplicate = true;
    record(claim.host, true);
    // Frozen at its last location while that still claims it; otherwise where it is now.
    const stay = previous !== undefined && claims.some((c) => c.report.host === previous.host);
    const at = stay ? previous : entryFrom(winner, now, moveTimes.length);
    const frozen: FdbEntryRecord = {
      ...at,
      moves: moveTimes.length,
      duplicate: true,
      reason: reason(moveTimes.length, at.host ?? ''),
      updatedAt: now,
    };
    return { entry: frozen, mobility: moved };
  }
  record(claim.host, false);
  return { entry: entryFrom(winner, now, moveTimes.length), mobility: moved };
}

/** The flood half: the flood list of every network, from the ports and reports of its hosts. */
export function computeFlood(
  input: Pick<TableInputs, 'networks' | 'hosts' | 'ports' | 'reports' | 'flood' | 'now'>,
): Map<number, FloodListRecord> {
  const members = new Map<number, Set<string>>();
  const add = (vni: number, host: string): void => {
    let set = members.get(vni);
    if (set === undefined) members.set(vni, (set = new Set()));
    set.add(host);
  };
  for (const port of input.ports) {
    // A port whose device is gone (the VM quit, the pod died) takes no frames: it is no reason to flood to its host.
    if (port.state === 'gone') continue;
    for (const binding of port.bindings) add(binding.vni, port.host);
  }
  for (const report of input.reports) add(report.vni, report.host);
  const out = new Map<number, FloodListRecord>();
  for (const network of input.networks.values()) {
    out.set(
      network.vni,
      floodListFor(network, members.get(network.vni) ?? [], input.hosts, input.flood.get(network.vni), input.now),
    );
  }
  return out;
}

/**
 * One network's flood list: its member hosts (those with a host record) at
 * their VTEP for the network's encap, and its external VTEPs; sorted by
 * VTEP, one member per VTEP. `previous` is kept when nothing but the time
 * would change.
 */
export function floodListFor(
  network: NetworkRecord,
  memberHosts: Iterable<string>,
  hosts: ReadonlyMap<string, HostRecord>,
  previous: FloodListRecord | undefined,
  now: number,
): FloodListRecord {
  const all: FloodMember[] = [];
  for (const name of memberHosts) {
    const host = hosts.get(name);
    if (host !== undefined) all.push({ ...hostVtepFor(host, network.encap), host: name });
  }
  for (const external of network.externalVteps)
    all.push({ address: external.address, port: external.port, host: null });
  // At one VTEP a host wins over an external VTEP, the lowest host id over the others.
  all.sort((a, b) => compareVteps(a, b) || (a.host ?? '\uffff').localeCompare(b.host ?? '\uffff'));
  const list: FloodMember[] = [];
  for (const m of all) {
    const last = list[list.length - 1];
    if (last === undefined || last.address !== m.address || last.port !== m.port) list.push(m);
  }
  const next: FloodListRecord = { vni: network.vni, members: list, updatedAt: now };
  return previous !== undefined && sameFloodList(previous, next) ? previous : next;
}

/** Equal in everything but `updatedAt`. */
export function sameFdbEntry(a: FdbEntryRecord, b: FdbEntryRecord): boolean {
  return (
    a.vni === b.vni &&
    a.mac === b.mac &&
    a.host === b.host &&
    a.vtep.address === b.vtep.address &&
    a.vtep.port === b.vtep.port &&
    a.seq === b.seq &&
    a.origin === b.origin &&
    a.moves === b.moves &&
    a.duplicate === b.duplicate &&
    a.reason === b.reason &&
    (a.stale === true) === (b.stale === true) &&
    a.ips.length === b.ips.length &&
    a.ips.every((ip, i) => ip === b.ips[i])
  );
}

/** Equal in everything but `updatedAt`. */
export function sameFloodList(a: FloodListRecord, b: FloodListRecord): boolean {
  return (
    a.vni === b.vni &&
    a.members.length === b.members.length &&
    a.members.every((m, i) => {
      const o = b.members[i]!;
      return m.address === o.address && m.port === o.port && m.host === o.host;
    })
  );
}
