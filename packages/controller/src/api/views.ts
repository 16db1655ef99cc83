/**
 * Read views served from the controller's ClusterView (docs/api.md shapes;
 * the types are the API contract's, in @dvs/wire).
 */
import type {
  DivergenceView,
  FdbEntryRecord,
  HostPortView,
  HostView,
  Problem,
  StatusView,
  TunnelStatusRecord,
} from '@dvs/wire';
import { describeIgnored, groupIgnored } from '../leader/ignored-records.js';
import { ipConflictsOf } from '../tables/ip-conflicts.js';
import type { IgnoredRecord } from '../tables/admission.js';
import type { ClusterView } from '../view/cluster-view.js';

export function hostViews(view: ClusterView): HostView[] {
  const ports = new Map<string, HostPortView[]>();
  for (const { record } of view.ports.values()) {
    const { host, ...rest } = record;
    const list = ports.get(host);
    if (list === undefined) ports.set(host, [rest]);
    else list.push(rest);
  }
  const macs = new Map<string, number>();
  for (const { record } of view.reports.values()) macs.set(record.host, (macs.get(record.host) ?? 0) + 1);
  const out: HostView[] = [];
  for (const { record } of view.hosts.values()) {
    out.push({
      ...record,
      state: 'up',
      since: record.startedAt,
      ports: (ports.get(record.host) ?? []).sort((a, b) => a.port.localeCompare(b.port)),
      macs: macs.get(record.host) ?? 0,
    });
  }
  const grace = view.stalePolicy?.graceMs ?? 0;
  for (const [id, down] of view.downHosts) {
    if (view.hosts.has(id)) continue;
    const stale = view.stale.get(id);
    if (stale !== undefined) {
      out.push({
        ...stale.record,
        state: 'stale',
        since: stale.lostAt,
        staleUntil: stale.lostAt + grace,
        ports: [...stale.ports.values()]
          .map(({ record: { host: _, ...rest } }) => rest)
          .sort((a, b) => a.port.localeCompare(b.port)),
        macs: stale.reports.size,
      });
      continue;
    }
    out.push({ ...down.record, state: 'down', since: down.lostAt, ports: [], macs: 0 });
  }
  return out.sort((a, b) => a.host.localeCompare(b.host));
}

export interface FdbFilter {
  vni?: number;
  host?: string;
  mac?: string;
  duplicate?: boolean;
}

export function fdbViews(view: ClusterView, filter: FdbFilter, now: number): (FdbEntryRecord & { ageMs: number })[] {
  const out: (FdbEntryRecord & { ageMs: number })[] = [];
  for (const { record } of view.fdb.values()) {
    if (filter.vni !== undefined && record.vni !== filter.vni) continue;
    if (filter.host !== undefined && record.host !== filter.host) continue;
    if (filter.mac !== undefined && record.mac !== filter.mac) continue;
    if (filter.duplicate !== undefined && record.duplicate !== filter.duplicate) continue;
    out.push({ ...record, ageMs: Math.max(0, now - record.updatedAt) });
  }
  return out.sort((a, b) => a.vni - b.vni || a.mac.localeCompare(b.mac));
}

export function tunnelViews(view: ClusterView, host?: string): TunnelStatusRecord[] {
  return [...view.status.values()]
    .map((v) => v.record)
    .filter((r) => host === undefined || r.host === host)
    .sort((a, b) => a.host.localeCompare(b.host));
}

/** `ignored`: agent records the tables leave out now (tables/admission.ts); each group is a problem. */
export function statusView(
  view: ClusterView,
  self: { id: string; leader: boolean; etcdUp: boolean },
  ignored: readonly IgnoredRecord[] = [],
  divergences: readonly DivergenceView[] = [],
): StatusView {
  const problems: Problem[] = [];
  const leaderId = view.leaderId();
  if (leaderId === null)
    problems.push({ kind: 'no-leader', message: 'no controller is leader: tables are not being updated' });
  if (!self.etcdUp)
    problems.push({
      kind: 'etcd-down',
      message: `etcd is unreachable from controller ${self.id}; showing the last known state`,
    });
  let downHosts = 0;
  let staleHosts = 0;
  for (const [id, stale] of view.stale) {
    if (view.hosts.has(id)) continue;
    staleHosts++;
    const until = new Date(stale.lostAt + (view.stalePolicy?.graceMs ?? 0)).toISOString();
    problems.push({
      kind: 'host-stale',
      host: id,
      message:
        `${id} lost its etcd lease at ${new Date(stale.lostAt).toISOString()}: its ${stale.reports.size} MAC(s) ` +
        `are kept, stale, until it registers again, its tunnels are seen down, or ${until}`,
    });
  }
  for (const [id, down] of view.downHosts) {
    if (view.hosts.has(id) || view.stale.has(id)) continue;
    downHosts++;
    problems.push({
      kind: 'host-down',
      host: id,
      message: `${id} lease expired at ${new Date(down.lostAt).toISOString()}`,
    });
  }
  const tunnels = { up: 0, down: 0, init: 0, unmonitored: 0 };
  for (const { record } of view.status.values()) {
    for (const peer of record.peers) {
      tunnels[peer.state]++;
      if (peer.state === 'down') {
        const peerText = `${peer.vtep.address}:${peer.vtep.port}`;
        problems.push({
          kind: 'tunnel-down',
          host: record.host,
          peer: peerText,
          message: `${record.host} → ${peer.host ?? peerText}: ${peer.reason}`,
        });
      }
    }
  }
  for (const { record } of view.status.values()) {
    for (const c of record.conflicts ?? []) {
      problems.push({
        kind: 'learn-conflict',
        host: record.host,
        vni: c.vni,
        mac: c.mac,
        peer: c.claimedBy,
        count: c.count,
        message: `${record.host}: VTEP ${c.claimedBy} claimed ${c.mac} (VNI ${c.vni}), the controller has it at VTEP ${c.controllerVtep}: ${c.outcome === 'held' ? 'held off, a local port uses it' : 'reverted, not confirmed'} (${c.count}×, last ${new Date(c.lastAt).toISOString()})`,
      });
    }
  }
  let duplicates = 0;
  let staleEntries = 0;
  for (const { record } of view.fdb.values()) {
    if (record.stale === true) staleEntries++;
    if (!record.duplicate) continue;
    duplicates++;
    problems.push({ kind: 'duplicate-mac', vni: record.vni, mac: record.mac, message: record.reason });
  }
  const fdbRecords = [...view.fdb.values()].map((v) => v.record);
  for (const c of ipConflictsOf(
    fdbRecords,
    [...view.reports.values()].map((v) => v.record),
  )) {
    problems.push({
      kind: 'ip-conflict',
      host: c.host,
      vni: c.vni,
      mac: c.claimant,
      ip: c.ip,
      holder: c.mac,
      message: `VNI ${c.vni}: ${c.ip} is ${c.mac}'s (first claim); ${c.claimant} on ${c.host} claims it too`,
    });
  }
  for (const g of groupIgnored(ignored)) {
    problems.push({
      kind: 'record-ignored',
      host: g.host,
      vni: g.example.vni,
      ...(g.example.mac !== undefined ? { mac: g.example.mac } : {}),
      reason: g.reason,
      count: g.count,
      message: describeIgnored(g),
    });
  }
  const invalidRecords: Record<string, number> = {};
  for (const [kind, k] of view.invalid.byKind()) {
    invalidRecords[kind] = k.count;
    problems.push({
      kind: 'record-invalid',
      recordKind: kind,
      count: k.count,
      message: `${k.count} ${kind} record(s) do not decode and are ignored, e.g. ${k.example.key} (${k.example.error.field}: ${k.example.error.message})`,
    });
  }
  const divergentHosts = new Map<string, Set<number>>();
  for (const d of divergences) divergentHosts.set(d.host, (divergentHosts.get(d.host) ?? new Set()).add(d.vni));
  for (const [host, vnis] of divergentHosts) {
    problems.push({
      kind: 'tables-divergent',
      host,
      count: vnis.size,
      message: `${host} forwards other than the controller intends in VNI ${[...vnis].sort((a, b) => a - b).join(', ')} (dvs audit; dvs audit --repair)`,
    });
  }
  return {
    controller: { id: self.id, leader: self.leader, leaderId, etcd: self.etcdUp ? 'up' : 'down' },
    hosts: { up: view.hosts.size, down: downHosts, stale: staleHosts },
    networks: view.networks.size,
    fdb: { entries: view.fdb.size, duplicates, stale: staleEntries },
    invalidRecords,
    divergentHosts: divergentHosts.size,
    tunnels,
    problems,
  };
}
