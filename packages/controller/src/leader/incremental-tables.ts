/**
 * The leader's tables, computed again only where something changed.
 *
 * The view hands over every change record by record (view/view-change.ts).
 * From them this keeps a set of dirty records, MACs and VNIs, and each round:
 *
 *  1. judges again (tables/admission.ts, record by record) the reports and
 *     ports that changed or depend on what changed — a host record (its
 *     lease, its labels), a network (its membership rules), an FDB entry
 *     (the seq its reports are held to);
 *  2. keeps, from those verdicts, the admitted reports per MAC and the member
 *     hosts per VNI (how many admitted ports and reports each has there);
 *  3. computes the FDB of the dirty MACs (computeFdb, on just their claims,
 *     entries and mobility) and the flood lists of the dirty VNIs
 *     (floodListFor, on their members) — the same pure functions as a full
 *     computation, on less input;
 *  4. returns what differs from the view as a plan; `commit` keeps the
 *     mobility of what reached etcd and marks it dirty once more, so the next
 *     round re-judges the reports of a MAC whose seq moved, as a full
 *     computation would.
 *
 * Time alone changes a few outputs (a duplicate released after a quiet
 * window, move history forgotten after one): the slow tick marks those MACs
 * dirty (`touchTimeDependent`). Invariant, checked by
 * test/incremental-tables.test.ts on random change sequences: after every
 * round the tables equal the full computation's (full-tables.ts).
 */
import type { FdbEntryRecord, FloodListRecord, HostRecord, NetworkRecord } from '@dvs/wire';
import {
  admitPort,
  admitReport,
  legacyIgnored,
  type IgnoredRecord,
  type LeasedRecord,
  type LiveHost,
} from '../tables/admission.js';
import {
  computeFdb,
  floodListFor,
  sameFdbEntry,
  sameFloodList,
  type MacMove,
  type TableReport,
} from '../tables/compute-tables.js';
import type { DampeningOptions, MacMobility } from '../tables/mobility.js';
import type { ClusterView } from '../view/cluster-view.js';
import type { ViewChange } from '../view/view-change.js';
import { liveHostOf, networkRecords, staleHostOf } from './full-tables.js';
import { ignoredId, IgnoredRecords } from './ignored-records.js';

export interface FdbWrite {
  /** `${vni}/${mac}` */
  tableKey: string;
  /** Null: delete. */
  desired: FdbEntryRecord | null;
  /** The entry in the view now (absent: none). */
  current: { record: FdbEntryRecord; modRevision: number } | undefined;
}

export interface FloodWrite {
  vni: number;
  desired: FloodListRecord | null;
  current: { record: FloodListRecord; modRevision: number } | undefined;
}

export interface RoundPlan {
  fdb: FdbWrite[];
  flood: FloodWrite[];
  moves: MacMove[];
  /** Mobility decided for the MACs computed this round (null: forget it). */
  mobility: Map<string, MacMobility | null>;
  /** Records newly ignored this round (to log). */
  freshlyIgnored: IgnoredRecord[];
  /** How many MACs and VNIs were computed (for metrics and benchmarks). */
  computed: { macs: number; vnis: number; records: number };
}

interface ReportVerdict {
  tableKey: string;
  vni: number;
  host: string;
  admitted: TableReport | null;
  ignored: string | null;
}

interface PortVerdict {
  host: string;
  vnis: number[];
  ignored: string[];
}

export class IncrementalTables {
  /** The leader's mobility memory, by `${vni}/${mac}`. */
  readonly mobility = new Map<string, MacMobility>();
  readonly ignored = new IgnoredRecords();
  private readonly reports = new Map<string, ReportVerdict>();
  private readonly ports = new Map<string, PortVerdict>();
  private readonly legacy = new Map<string, string>();
  /** Admitted reports by MAC. */
  private readonly claims = new Map<string, Map<string, TableReport>>();
  /** Member hosts per VNI, with how many admitted records put each there. */
  private readonly members = new Map<number, Map<string, number>>();
  /** VNIs each host is a member of. */
  private readonly hostVnis = new Map<string, Set<number>>();

  private everything = true;
  private readonly dirtyReports = new Set<string>();
  private readonly dirtyPorts = new Set<string>();
  private readonly dirtyLegacy = new Set<string>();
  private readonly dirtyHosts = new Set<string>();
  private readonly dirtyNetworks = new Set<number>();
  /** MACs whose reports are judged again (their entry changed). */
  private readonly dirtyMacReports = new Set<string>();
  private readonly dirtyMacs = new Set<string>();
  private readonly dirtyFlood = new Set<number>();

  constructor(
    private readonly view: ClusterView,
    private readonly dampening: DampeningOptions,
  ) {}

  /** True when a round has something to compute. */
  get dirty(): boolean {
    return (
      this.everything ||
      this.dirtyReports.size + this.dirtyPorts.size + this.dirtyLegacy.size + this.dirtyHosts.size > 0 ||
      this.dirtyNetworks.size + this.dirtyMacReports.size + this.dirtyMacs.size + this.dirtyFlood.size > 0
    );
  }

  /** Forgets everything (a new term as leader): the next round computes all from the view. */
  reset(): void {
    this.mobility.clear();
    this.ignored.clear();
    this.reports.clear();
    this.ports.clear();
    this.legacy.clear();
    this.claims.clear();
    this.members.clear();
    this.hostVnis.clear();
    this.everything = true;
  }

  /** One change of the view (ClusterView.changeListener). */
  note(change: ViewChange): void {
    if (this.everything) return;
    switch (change.kind) {
      case 'report':
        this.dirtyReports.add(change.key);
        break;
      case 'port':
        this.dirtyPorts.add(change.key);
        break;
      case 'host':
        this.dirtyHosts.add(change.host);
        break;
      case 'network':
        this.dirtyNetworks.add(change.vni);
        break;
      case 'fdb':
        this.dirtyMacReports.add(`${change.vni}/${change.mac}`);
        break;
      case 'flood':
        this.dirtyFlood.add(change.vni);
        break;
      case 'legacy':
        this.dirtyLegacy.add(change.key);
        break;
    }
  }

  /**
   * MACs whose entry time alone changes: a duplicate (released after a quiet
   * window), a move leaving the dampening window (`moves` counts the moves in
   * it), the history of a removed entry expiring (the seq it holds reports to).
   */
  touchTimeDependent(now: number): void {
    if (this.everything) return;
    const window = this.dampening.windowMs;
    for (const [key, v] of this.view.fdb) if (v.record.duplicate) this.dirtyMacReports.add(key);
    for (const [key, m] of this.mobility) {
      const oldestMove = m.moveTimes[0];
      if (
        (oldestMove !== undefined && now - oldestMove >= window) ||
        (m.orphanedAt !== null && now - m.orphanedAt >= window)
      ) {
        this.dirtyMacReports.add(key);
      }
    }
  }

  /** Computes what changed since the last round; nothing is written or kept until `commit`. */
  plan(now: number): RoundPlan {
    const networks = networkRecords(this.view);
    const freshlyIgnored: IgnoredRecord[] = [];
    const judged = this.expand();
    for (const key of judged.reports) this.judgeReport(key, networks, freshlyIgnored);
    for (const key of judged.ports) this.judgePort(key, networks, freshlyIgnored);
    for (const key of judged.legacy) this.judgeLegacy(key, freshlyIgnored);

    const hosts = this.view.tableHosts();
    const macs = [...this.dirtyMacs];
    const vnis = [...this.dirtyFlood];
    this.dirtyMacs.clear();
    this.dirtyFlood.clear();
    const plan: RoundPlan = {
      fdb: [],
      flood: [],
      moves: [],
      mobility: new Map(),
      freshlyIgnored,
      computed: { macs: macs.length, vnis: vnis.length, records: judged.reports.size + judged.ports.size },
    };
    this.planFdb(macs, networks, hosts, now, plan);
    this.planFlood(vnis, networks, hosts, now, plan);
    return plan;
  }

  /**
   * Keeps the plan's outcome: mobility of what reached etcd (the rest keeps
   * its old memory and is computed again), and every key written is computed
   * once more next round against what it now is.
   */
  commit(plan: RoundPlan, failed: ReadonlySet<string>): void {
    for (const [key, m] of plan.mobility) {
      if (failed.has(key)) continue;
      if (m === null) this.mobility.delete(key);
      else this.mobility.set(key, m);
    }
    for (const w of plan.fdb) this.dirtyMacReports.add(w.tableKey);
    for (const w of plan.flood) this.dirtyFlood.add(w.vni);
  }

  // ---- what depends on what --------------------------------------------------

  private expand(): { reports: Set<string>; ports: Set<string>; legacy: Set<string> } {
    const view = this.view;
    const reports = new Set(this.dirtyReports);
    const ports = new Set(this.dirtyPorts);
    const legacy = new Set(this.dirtyLegacy);
    if (this.everything) {
      this.everything = false;
      for (const key of view.reports.keys()) reports.add(key);
      for (const key of view.ports.keys()) ports.add(key);
      for (const key of view.legacyReports.keys()) legacy.add(key);
      for (const stale of view.stale.values()) {
        for (const key of stale.reports.keys()) reports.add(key);
        for (const key of stale.ports.keys()) ports.add(key);
      }
      for (const key of view.fdb.keys()) this.dirtyMacs.add(key);
      for (const vni of view.networks.keys()) this.dirtyFlood.add(vni);
      for (const vni of view.flood.keys()) this.dirtyFlood.add(vni);
    }
    for (const host of this.dirtyHosts) {
      for (const key of view.reportsByHost.get(host) ?? []) reports.add(key);
      for (const key of view.portsByHost.get(host) ?? []) ports.add(key);
      const stale = view.stale.get(host);
      for (const key of stale?.reports.keys() ?? []) reports.add(key);
      for (const key of stale?.ports.keys() ?? []) ports.add(key);
      for (const vni of this.hostVnis.get(host) ?? []) this.dirtyFlood.add(vni); // its VTEP may have changed
    }
    for (const vni of this.dirtyNetworks) {
      for (const mac of view.reportedMacsByVni.get(vni) ?? []) this.dirtyMacReports.add(mac);
      for (const mac of view.fdbByVni.get(vni) ?? []) this.dirtyMacs.add(mac);
      for (const stale of view.stale.values())
        for (const [key, r] of stale.reports) if (r.record.vni === vni) reports.add(key);
      for (const key of view.ports.keys()) ports.add(key);
      for (const stale of view.stale.values()) for (const key of stale.ports.keys()) ports.add(key);
      this.dirtyFlood.add(vni);
    }
    for (const mac of this.dirtyMacReports) {
      this.dirtyMacs.add(mac);
      for (const key of view.reportsByMac.get(mac) ?? []) reports.add(key);
      for (const key of this.claims.get(mac)?.keys() ?? []) reports.add(key);
      if (view.stale.size > 0) {
        const slash = mac.indexOf('/');
        const vni = Number(mac.slice(0, slash));
        for (const stale of view.stale.values()) {
          const key = view.keys.report(stale.host, vni, mac.slice(slash + 1));
          if (stale.reports.has(key)) reports.add(key);
        }
      }
    }
    this.dirtyReports.clear();
    this.dirtyPorts.clear();
    this.dirtyLegacy.clear();
    this.dirtyHosts.clear();
    this.dirtyNetworks.clear();
    this.dirtyMacReports.clear();
    return { reports, ports, legacy };
  }

  // ---- judging records -------------------------------------------------------

  /** The record behind a report key (live, or kept for a stale host) and the host it is judged against. */
  private reportSource(key: string): { r: LeasedRecord<TableReport>; host: LiveHost | undefined } | null {
    const live = this.view.reports.get(key);
    if (live !== undefined) {
      return { r: { key, ...live }, host: liveHostOf(this.view, live.record.host) };
    }
    const parsed = this.view.keys.parseReport(key);
    const stale = parsed === null ? undefined : this.view.stale.get(parsed.host);
    const kept = stale?.reports.get(key);
    if (stale === undefined || kept === undefined) return null;
    return { r: { key, ...kept, record: { ...kept.record, stale: true } }, host: staleHostOf(stale) };
  }

  private judgeReport(key: string, networks: ReadonlyMap<number, NetworkRecord>, fresh: IgnoredRecord[]): void {
    const before = this.reports.get(key);
    if (before !== undefined) {
      if (before.admitted !== null) {
        this.dropClaim(before.tableKey, key);
        this.removeMember(before.vni, before.host);
      }
      if (before.ignored !== null) this.ignored.set(before.ignored, null);
      this.reports.delete(key);
      this.dirtyMacs.add(before.tableKey);
    }
    const source = this.reportSource(key);
    if (source === null) return;
    const { record } = source.r;
    const tableKey = `${record.vni}/${record.mac}`;
    this.dirtyMacs.add(tableKey);
    const verdict = admitReport(
      source.r,
      source.host,
      networks.get(record.vni),
      this.view.fdb.get(tableKey)?.record,
      this.mobility.get(tableKey),
    );
    if (verdict === null) return;
    const v: ReportVerdict = { tableKey, vni: record.vni, host: record.host, admitted: null, ignored: null };
    if ('report' in verdict) {
      v.admitted = record; // the source's record: stale-marked when it is a stale claim
      let claims = this.claims.get(tableKey);
      if (claims === undefined) this.claims.set(tableKey, (claims = new Map()));
      claims.set(key, record);
      this.addMember(record.vni, record.host);
    } else {
      v.ignored = ignoredId(verdict.ignored);
      if (this.ignored.set(v.ignored, verdict.ignored)) fresh.push(verdict.ignored);
    }
    this.reports.set(key, v);
  }

  private judgePort(id: string, networks: ReadonlyMap<number, NetworkRecord>, fresh: IgnoredRecord[]): void {
    const before = this.ports.get(id);
    if (before !== undefined) {
      for (const vni of before.vnis) this.removeMember(vni, before.host);
      for (const ig of before.ignored) this.ignored.set(ig, null);
      this.ports.delete(id);
    }
    const host = id.slice(0, id.indexOf('/'));
    const live = this.view.ports.get(id);
    const stale = live === undefined ? this.view.stale.get(host) : undefined;
    const kept = stale?.ports.get(id);
    const source = live ?? kept;
    if (source === undefined) return;
    const judgedBy = live !== undefined ? liveHostOf(this.view, host) : staleHostOf(stale!);
    const key = this.view.keys.port(source.record.host, source.record.port);
    const verdict = admitPort({ key, ...source }, judgedBy, networks);
    const v: PortVerdict = { host, vnis: [], ignored: [] };
    // A port whose device is gone takes no frames: no reason to flood to its host (compute-tables.ts).
    const bindings = verdict.port?.state === 'gone' ? [] : (verdict.port?.bindings ?? []);
    for (const binding of bindings) {
      if (v.vnis.includes(binding.vni)) continue;
      v.vnis.push(binding.vni);
      this.addMember(binding.vni, host);
    }
    for (const ig of verdict.ignored) {
      const igId = ignoredId(ig);
      v.ignored.push(igId);
      if (this.ignored.set(igId, ig)) fresh.push(ig);
    }
    this.ports.set(id, v);
  }

  private judgeLegacy(key: string, fresh: IgnoredRecord[]): void {
    const before = this.legacy.get(key);
    if (before !== undefined) this.ignored.set(before, null);
    this.legacy.delete(key);
    const legacy = this.view.legacyReports.get(key);
    if (legacy === undefined) return;
    const ig = legacyIgnored({ key, ...legacy });
    const id = ignoredId(ig);
    this.legacy.set(key, id);
    if (this.ignored.set(id, ig)) fresh.push(ig);
  }

  private dropClaim(tableKey: string, key: string): void {
    const claims = this.claims.get(tableKey);
    claims?.delete(key);
    if (claims?.size === 0) this.claims.delete(tableKey);
  }

  private addMember(vni: number, host: string): void {
    let hosts = this.members.get(vni);
    if (hosts === undefined) this.members.set(vni, (hosts = new Map()));
    const n = hosts.get(host) ?? 0;
    hosts.set(host, n + 1);
    if (n === 0) {
      this.dirtyFlood.add(vni);
      let vnis = this.hostVnis.get(host);
      if (vnis === undefined) this.hostVnis.set(host, (vnis = new Set()));
      vnis.add(vni);
    }
  }

  private removeMember(vni: number, host: string): void {
    const hosts = this.members.get(vni);
    const n = hosts?.get(host);
    if (hosts === undefined || n === undefined) return;
    if (n > 1) {
      hosts.set(host, n - 1);
      return;
    }
    hosts.delete(host);
    if (hosts.size === 0) this.members.delete(vni);
    this.dirtyFlood.add(vni);
    const vnis = this.hostVnis.get(host);
    vnis?.delete(vni);
    if (vnis?.size === 0) this.hostVnis.delete(host);
  }

  // ---- computing the dirty part ----------------------------------------------

  private planFdb(
    macs: readonly string[],
    networks: ReadonlyMap<number, NetworkRecord>,
    hosts: ReadonlyMap<string, HostRecord>,
    now: number,
    plan: RoundPlan,
  ): void {
    if (macs.length === 0) return;
    const reports: TableReport[] = [];
    const fdb = new Map<string, FdbEntryRecord>();
    const mobility = new Map<string, MacMobility>();
    for (const key of macs) {
      for (const r of this.claims.get(key)?.values() ?? []) reports.push(r);
      const entry = this.view.fdb.get(key);
      if (entry !== undefined) fdb.set(key, entry.record);
      const m = this.mobility.get(key);
      if (m !== undefined) mobility.set(key, m);
    }
    const out = computeFdb({ networks, hosts, reports, fdb, mobility, dampening: this.dampening, now });
    plan.moves.push(...out.moves);
    for (const key of macs) {
      plan.mobility.set(key, out.mobility.get(key) ?? null);
      const desired = out.fdb.get(key) ?? null;
      const current = this.view.fdb.get(key);
      if (desired === null ? current === undefined : current !== undefined && sameFdbEntry(current.record, desired))
        continue;
      plan.fdb.push({ tableKey: key, desired, current });
    }
  }

  private planFlood(
    vnis: readonly number[],
    networks: ReadonlyMap<number, NetworkRecord>,
    hosts: ReadonlyMap<string, HostRecord>,
    now: number,
    plan: RoundPlan,
  ): void {
    for (const vni of vnis) {
      const network = networks.get(vni);
      const current = this.view.flood.get(vni);
      const desired =
        network === undefined
          ? null
          : floodListFor(network, this.members.get(vni)?.keys() ?? [], hosts, current?.record, now);
      if (desired === null ? current === undefined : current !== undefined && sameFloodList(current.record, desired))
        continue;
      plan.flood.push({ vni, desired, current });
    }
  }
}
