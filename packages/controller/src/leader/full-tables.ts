/**
 * The tables computed from the whole view at once: admission of every
 * record, then computeTables. This is the reference the leader's incremental
 * tables must always equal (test/incremental-tables.test.ts checks it on
 * random change sequences); a standby also uses it to say which records the
 * tables leave out.
 *
 * Records a stale host kept (view/stale-hosts.ts) are judged against the
 * lease they were written under (the host's lost one) and enter the tables
 * as stale claims.
 */
import type { HostRecord, NetworkRecord, PortRecord, ReportRecord } from '@dvs/wire';
import { admit, type Admission, type AdmissionInputs, type LeasedRecord, type LiveHost } from '../tables/admission.js';
import { computeTables, type TableOutputs, type TableReport } from '../tables/compute-tables.js';
import type { DampeningOptions, MobilityState } from '../tables/mobility.js';
import type { ClusterView } from '../view/cluster-view.js';
import type { StaleHost } from '../view/stale-hosts.js';

/** The host as admission judges its records: live (with its past leases), or its stale memory. */
export function liveHostOf(view: ClusterView, host: string): LiveHost | undefined {
  const v = view.hosts.get(host);
  return v === undefined
    ? undefined
    : { record: v.record, lease: v.lease, pastLeases: view.pastLeases.get(host) ?? [] };
}

export function staleHostOf(stale: StaleHost): LiveHost {
  return { record: stale.record, lease: stale.lease, pastLeases: [] };
}

export function networkRecords(view: ClusterView): Map<number, NetworkRecord> {
  return new Map([...view.networks].map(([k, v]) => [k, v.record]));
}

/** What admission needs of the live records (`mobility`: the leader's memory, or empty). */
export function admissionInputs(view: ClusterView, mobility: MobilityState): AdmissionInputs {
  return {
    hosts: new Map([...view.hosts.keys()].map((id) => [id, liveHostOf(view, id)!])),
    networks: networkRecords(view),
    ports: [...view.ports.values()].map((v) => ({
      key: view.keys.port(v.record.host, v.record.port),
      record: v.record,
      modRevision: v.modRevision,
      lease: v.lease,
    })),
    reports: [...view.reports].map(([key, v]) => ({
      key,
      record: v.record,
      modRevision: v.modRevision,
      lease: v.lease,
    })),
    legacyReports: [...view.legacyReports].map(([key, v]) => ({ key, ...v })),
    fdb: new Map([...view.fdb].map(([k, v]) => [k, v.record])),
    mobility,
  };
}

/** Admission of every record, live and stale; stale reports come out marked. */
export function admitAll(
  view: ClusterView,
  mobility: MobilityState,
): Omit<Admission, 'reports'> & { reports: TableReport[] } {
  const live = admissionInputs(view, mobility);
  const liveVerdict = admit(live);
  const staleReports: LeasedRecord<ReportRecord>[] = [];
  const stalePorts: LeasedRecord<PortRecord>[] = [];
  const staleHosts = new Map<string, LiveHost>();
  for (const stale of view.stale.values()) {
    staleHosts.set(stale.host, staleHostOf(stale));
    for (const [key, r] of stale.reports) staleReports.push({ key, ...r });
    for (const r of stale.ports.values()) stalePorts.push({ key: view.keys.port(r.record.host, r.record.port), ...r });
  }
  const staleVerdict = admit({
    ...live,
    hosts: staleHosts,
    reports: staleReports,
    ports: stalePorts,
    legacyReports: [],
  });
  return {
    reports: [...liveVerdict.reports, ...staleVerdict.reports.map((r) => ({ ...r, stale: true }))],
    ports: [...liveVerdict.ports, ...staleVerdict.ports],
    ignored: [...liveVerdict.ignored, ...staleVerdict.ignored],
  };
}

export function fullTables(
  view: ClusterView,
  mobility: MobilityState,
  dampening: DampeningOptions,
  now: number,
): TableOutputs & { admitted: ReturnType<typeof admitAll> } {
  const admitted = admitAll(view, mobility);
  const hosts: Map<string, HostRecord> = view.tableHosts();
  const out = computeTables({
    networks: networkRecords(view),
    hosts,
    ports: admitted.ports,
    reports: admitted.reports,
    fdb: new Map([...view.fdb].map(([k, v]) => [k, v.record])),
    flood: new Map([...view.flood].map(([k, v]) => [k, v.record])),
    mobility,
    dampening,
    now,
  });
  return { ...out, admitted };
}
