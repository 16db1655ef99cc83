/**
 * Which agent records the tables may use: the controller's checks on what
 * hosts write, before computeTables sees anything. Pure, like the tables.
 *
 * etcd RBAC already confines each host to its own keys (`reports/<h>/`,
 * `ports/<h>/`, …); these checks judge what a host writes there. A record is
 * used only when all hold, and is otherwise ignored with one reason:
 *
 *  1. `stale-lease` / `foreign-lease`: it is attached to the lease of the
 *     host's live `hosts/<host>` record. A record under a lease the host held
 *     before (an agent that restarted; it goes when that lease expires) is
 *     stale; under any other lease, or none, foreign — it would outlive the
 *     host, or was not written by its agent.
 *  2. `not-allowed`: the network restricts membership (`allowedHosts`,
 *     `allowedLabels`) and the host is not admitted. Applies per port
 *     binding: a trunk port keeps its allowed VNIs.
 *  3. `seq-jump` (reports): the seq is at most one above the seq the
 *     controller knows for the MAC — its FDB entry's, or the last winning
 *     claim it remembers after the entry went, or 0 for a MAC it never saw.
 *     Anything higher is ignored, so no host can pin a MAC with MAX_SEQ
 *     (RFC 7432 §15 moves only ever need seq + 1). Agents never report more
 *     (etcd-sync's seqBound), so an honest report is never ignored for it.
 *  4. `old-layout`: a layout-1 report key (`reports/<vni>/<mac>/<host>`),
 *     written by an agent older than the key layout; never used.
 *
 * Records of hosts without a live host record, or in VNIs without a
 * network, are left out without a reason: that is a host that left, or a
 * network deleted, not a record to distrust.
 */
import {
  networkAdmitsHost,
  type FdbEntryRecord,
  type HostRecord,
  type NetworkRecord,
  type PortRecord,
  type ReportRecord,
} from '@dvs/wire';
import { fdbKeyOf } from './compute-tables.js';
import type { MacMobility, MobilityState } from './mobility.js';

export type IgnoreReason = 'stale-lease' | 'foreign-lease' | 'not-allowed' | 'seq-jump' | 'old-layout';
export const IGNORE_REASONS: readonly IgnoreReason[] = [
  'stale-lease',
  'foreign-lease',
  'not-allowed',
  'seq-jump',
  'old-layout',
];

/** A record as etcd holds it: its key, version and lease. */
export interface LeasedRecord<T> {
  key: string;
  record: T;
  modRevision: number;
  lease: string;
}

export interface LiveHost {
  record: HostRecord;
  lease: string;
  /** Leases the host held before this one. */
  pastLeases: readonly string[];
}

export interface AdmissionInputs {
  hosts: ReadonlyMap<string, LiveHost>;
  networks: ReadonlyMap<number, NetworkRecord>;
  ports: readonly LeasedRecord<PortRecord>[];
  reports: readonly LeasedRecord<ReportRecord>[];
  /** Layout-1 report keys with what they name. */
  legacyReports: readonly { key: string; modRevision: number; host: string; vni: number; mac: string }[];
  /** Current authoritative FDB keyed by `${vni}/${mac}`. */
  fdb: ReadonlyMap<string, FdbEntryRecord>;
  mobility: MobilityState;
}

/** One record (or one port binding) the tables do not use, and why. */
export interface IgnoredRecord {
  key: string;
  modRevision: number;
  kind: 'report' | 'port';
  host: string;
  reason: IgnoreReason;
  vni: number;
  mac?: string;
  /** What was wrong, for logs and `dvs status` ("seq 4294967295, at most 1 accepted"). */
  detail: string;
}

export interface Admission {
  reports: ReportRecord[];
  /** Port records with only their admitted bindings (a port left with none is dropped). */
  ports: PortRecord[];
  ignored: IgnoredRecord[];
}

function leaseVerdict(host: LiveHost, lease: string): { reason: IgnoreReason; detail: string } | null {
  if (lease === host.lease && lease !== '0') return null;
  if (lease !== '0' && host.pastLeases.includes(lease)) {
    return { reason: 'stale-lease', detail: `under lease ${lease}, held before the host's current ${host.lease}` };
  }
  return {
    reason: 'foreign-lease',
    detail:
      lease === '0'
        ? `on no lease (the host holds ${host.lease})`
        : `under lease ${lease}, not the host's ${host.lease}`,
  };
}

/** The highest seq accepted for a MAC: one above what the controller knows of it. */
export function acceptedSeq(input: Pick<AdmissionInputs, 'fdb' | 'mobility'>, vni: number, mac: string): number {
  const key = fdbKeyOf(vni, mac);
  return seqAbove(input.fdb.get(key), input.mobility.get(key));
}

function seqAbove(entry: FdbEntryRecord | undefined, mobility: MacMobility | undefined): number {
  return (entry?.seq ?? mobility?.lastClaim?.seq ?? 0) + 1;
}

/**
 * One report's verdict: used (`report`), ignored with a reason (`ignored`),
 * or null — left out silently (its host is not live, or its VNI has no
 * network). `entry` and `mobility` are what the controller knows of its MAC.
 */
export function admitReport(
  r: LeasedRecord<ReportRecord>,
  host: LiveHost | undefined,
  network: NetworkRecord | undefined,
  entry: FdbEntryRecord | undefined,
  mobility: MacMobility | undefined,
): { report: ReportRecord } | { ignored: IgnoredRecord } | null {
  const { record } = r;
  if (host === undefined || network === undefined) return null;
  const base = {
    key: r.key,
    modRevision: r.modRevision,
    kind: 'report' as const,
    host: record.host,
    vni: record.vni,
    mac: record.mac,
  };
  const lease = leaseVerdict(host, r.lease);
  if (lease !== null) return { ignored: { ...base, ...lease } };
  if (!networkAdmitsHost(network, host.record)) {
    return {
      ignored: { ...base, reason: 'not-allowed', detail: `${record.host} may not join VNI ${record.vni}` },
    };
  }
  const max = seqAbove(entry, mobility);
  if (entry?.origin !== 'static' && record.seq > max) {
    return { ignored: { ...base, reason: 'seq-jump', detail: `seq ${record.seq}, at most ${max} accepted` } };
  }
  return { report: record };
}

/**
 * One port's verdict: the port with only its admitted bindings (null when
 * none is left, or its host is not live) and the bindings ignored, each with
 * its reason. Bindings to a VNI without a network are kept (they join nothing).
 */
export function admitPort(
  p: LeasedRecord<PortRecord>,
  host: LiveHost | undefined,
  networks: ReadonlyMap<number, NetworkRecord>,
): { port: PortRecord | null; ignored: IgnoredRecord[] } {
  const { record } = p;
  const ignored: IgnoredRecord[] = [];
  if (host === undefined) return { port: null, ignored };
  const lease = leaseVerdict(host, p.lease);
  const bindings = record.bindings.filter((binding) => {
    const network = networks.get(binding.vni);
    if (network === undefined) return true;
    const base = {
      key: p.key,
      modRevision: p.modRevision,
      kind: 'port' as const,
      host: record.host,
      vni: binding.vni,
    };
    if (lease !== null) {
      ignored.push({ ...base, ...lease });
      return false;
    }
    if (!networkAdmitsHost(network, host.record)) {
      ignored.push({ ...base, reason: 'not-allowed', detail: `${record.host} may not join VNI ${binding.vni}` });
      return false;
    }
    return true;
  });
  if (bindings.length === record.bindings.length) return { port: record, ignored };
  return { port: bindings.length > 0 ? { ...record, bindings } : null, ignored };
}

/** A layout-1 report key, always ignored. */
export function legacyIgnored(legacy: AdmissionInputs['legacyReports'][number]): IgnoredRecord {
  return {
    key: legacy.key,
    modRevision: legacy.modRevision,
    kind: 'report',
    host: legacy.host,
    reason: 'old-layout',
    vni: legacy.vni,
    mac: legacy.mac,
    detail: 'a layout-1 key (reports/<vni>/<mac>/<host>): the agent is older than the key layout',
  };
}

export function admit(input: AdmissionInputs): Admission {
  const ignored: IgnoredRecord[] = [];
  const reports: ReportRecord[] = [];
  for (const r of input.reports) {
    const key = fdbKeyOf(r.record.vni, r.record.mac);
    const verdict = admitReport(
      r,
      input.hosts.get(r.record.host),
      input.networks.get(r.record.vni),
      input.fdb.get(key),
      input.mobility.get(key),
    );
    if (verdict === null) continue;
    if ('report' in verdict) reports.push(verdict.report);
    else ignored.push(verdict.ignored);
  }
  const ports: PortRecord[] = [];
  for (const p of input.ports) {
    const verdict = admitPort(p, input.hosts.get(p.record.host), input.networks);
    ignored.push(...verdict.ignored);
    if (verdict.port !== null) ports.push(verdict.port);
  }
  for (const legacy of input.legacyReports) ignored.push(legacyIgnored(legacy));
  return { reports, ports, ignored };
}
