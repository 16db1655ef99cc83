/**
 * Controller counters, rendered with the view's gauges as Prometheus text.
 */
import type { AuditCounters } from './api/audit-log.js';
import type { IgnoredRecords } from './leader/ignored-records.js';
import { IGNORE_REASONS } from './tables/admission.js';
import type { ClusterView } from './view/cluster-view.js';

export class ControllerMetrics {
  macMoves = 0;
  macMovesFrozen = 0;
  reconciles = 0;
  reconcileWrites = 0;
  reconcileTransactions = 0;
  /** MACs whose entry the leader computed (again): what incremental rounds cost. */
  computedMacs = 0;
  writeConflicts = 0;
  private readonly http = new Map<string, number>();
  /** The audit log's counters, once the API has one. */
  audit: AuditCounters | null = null;
  /** The leader's ignored agent records, once the reconciler exists. */
  ignored: IgnoredRecords | null = null;

  countHttp(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
  }

  render(view: ClusterView, state: { leader: boolean; etcdUp: boolean }): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('dvs_controller_leader', 'gauge', '1 when this replica is the leader.', [['', state.leader ? 1 : 0]]);
    metric('dvs_controller_etcd_up', 'gauge', '1 when the etcd watch is live.', [['', state.etcdUp ? 1 : 0]]);
    metric('dvs_controller_revision', 'gauge', 'Last etcd revision applied to the view.', [['', view.revision]]);
    let stale = 0;
    for (const id of view.stale.keys()) if (!view.hosts.has(id)) stale++;
    metric('dvs_controller_hosts', 'gauge', 'Hosts by state.', [
      ['{state="up"}', view.hosts.size],
      ['{state="down"}', Math.max(0, view.downHosts.size - stale)],
      ['{state="stale"}', stale],
    ]);
    metric('dvs_controller_networks', 'gauge', 'Networks defined.', [['', view.networks.size]]);
    const perVni = new Map<number, number>();
    let duplicates = 0;
    let staleEntries = 0;
    for (const { record } of view.fdb.values()) {
      perVni.set(record.vni, (perVni.get(record.vni) ?? 0) + 1);
      if (record.duplicate) duplicates++;
      if (record.stale === true) staleEntries++;
    }
    metric(
      'dvs_controller_fdb_entries',
      'gauge',
      'Authoritative FDB entries per VNI.',
      [...perVni].sort((a, b) => a[0] - b[0]).map(([vni, n]) => [`{vni="${vni}"}`, n]),
    );
    metric('dvs_controller_fdb_duplicates', 'gauge', 'MACs frozen as duplicate.', [['', duplicates]]);
    metric('dvs_controller_fdb_stale', 'gauge', 'Entries kept for hosts that lost their lease.', [['', staleEntries]]);
    metric('dvs_controller_reports', 'gauge', 'MAC reports from agents.', [['', view.reports.size]]);
    metric(
      'dvs_controller_invalid_records',
      'gauge',
      'Keys whose record does not decode, by record kind.',
      view.invalid.byKind().map(([kind, k]) => [`{kind="${kind}"}`, k.count]),
    );
    metric('dvs_controller_mac_moves_total', 'counter', 'MAC moves decided by the leader.', [
      ['{frozen="false"}', this.macMoves],
      ['{frozen="true"}', this.macMovesFrozen],
    ]);
    if (this.ignored !== null) {
      const now = new Map<string, number>();
      for (const r of this.ignored.list())
        now.set(`${r.kind}|${r.reason}`, (now.get(`${r.kind}|${r.reason}`) ?? 0) + 1);
      const samples = (value: (kind: 'report' | 'port', reason: (typeof IGNORE_REASONS)[number]) => number) =>
        (['report', 'port'] as const).flatMap((kind) =>
          IGNORE_REASONS.filter(
            (reason) => kind === 'report' || (reason !== 'seq-jump' && reason !== 'old-layout'),
          ).map((reason): [string, number] => [`{kind="${kind}",reason="${reason}"}`, value(kind, reason)]),
        );
      metric(
        'dvs_controller_records_ignored_total',
        'counter',
        'Agent records the leader left out of the tables, each counted once per version (reason: stale-lease, foreign-lease, not-allowed, seq-jump, old-layout).',
        samples((kind, reason) => this.ignored!.totals[kind][reason]),
      );
      metric(
        'dvs_controller_records_ignored',
        'gauge',
        'Agent records the leader leaves out of the tables now.',
        samples((kind, reason) => now.get(`${kind}|${reason}`) ?? 0),
      );
    }
    metric('dvs_controller_reconciles_total', 'counter', 'Table computations run as leader.', [['', this.reconciles]]);
    metric('dvs_controller_reconcile_writes_total', 'counter', 'Keys written or deleted by the leader.', [
      ['', this.reconcileWrites],
    ]);
    metric('dvs_controller_reconcile_transactions_total', 'counter', 'Leader transactions that succeeded.', [
      ['', this.reconcileTransactions],
    ]);
    metric('dvs_controller_computed_macs_total', 'counter', 'MAC entries the leader computed (again).', [
      ['', this.computedMacs],
    ]);
    metric(
      'dvs_controller_leader_write_conflicts_total',
      'counter',
      'Leader transactions refused (deposed, or a key changed meanwhile).',
      [['', this.writeConflicts]],
    );
    metric(
      'dvs_controller_http_requests_total',
      'counter',
      'HTTP requests by route and status.',
      [...this.http].map(([key, n]) => {
        const [route, status] = key.split('\u0000');
        return [`{route="${route}",status="${status}"}`, n];
      }),
    );
    if (this.audit !== null) {
      metric('dvs_controller_audit_records_total', 'counter', 'API writes recorded in the audit log.', [
        ['{stored="true"}', this.audit.stored],
        ['{stored="false"}', this.audit.notStored],
      ]);
      metric('dvs_controller_audit_store_failures_total', 'counter', 'Audit records etcd did not take.', [
        ['', this.audit.failed],
      ]);
    }
    return lines.join('\n') + '\n';
  }
}
