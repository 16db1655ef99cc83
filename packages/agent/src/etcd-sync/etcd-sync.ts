/**
 * EtcdSync: the agent's side of the control plane.
 *
 *  1. Registers `hosts/<host>` on a lease (TTL default 10 s), keeps it alive,
 *     and registers again with a new lease after losing it.
 *  2. Publishes this host's ports, its local MAC reports and its tunnel
 *     status on the same lease. Reports follow the data path's `mac:local` /
 *     `mac:gone` events with RFC 7432 §15 seqs (mobility-seq.ts), and are
 *     withdrawn when the authoritative FDB decides against them.
 *  3. Follows networks and hosts, and the FDB and flood list of each VNI it
 *     has a port in (table-follower.ts: started when a port joins a VNI,
 *     stopped when its last port leaves), and turns every change into
 *     TableChange[] for ControlSurface.apply() (table-state.ts), applied a
 *     slice at a time between data-path batches (apply-queue.ts).
 *  4. etcd away: the data path keeps its tables; reads, watch and writes
 *     retry with backoff; the outage is logged once (outage-log.ts).
 *  5. Stopped cleanly, it deletes its ports and reports, then revokes its
 *     lease: the controller tells a host that left from one that lost its
 *     lease (whose entries it keeps, stale: docs/control-plane.md).
 */
import { EventEmitter } from 'node:events';
import {
  type VxlanOwner,
  encodeHost,
  encodePort,
  encodeReport,
  encodeTunnelStatus,
  decodeResyncRequest,
  KeyLayout,
  RecordError,
  formatMac,
  isValidMac,
  FLOW_EXPORTERS,
  type Encap,
  type FlowExporterName,
  type IpfixSettings,
  type SflowSettings,
  type PortRecord,
  type PortQos,
  type ReportRecord,
  type TunnelStatusRecord,
} from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, KeyspaceFollower, type EtcdConnectionOptions, type FollowedKv } from '@dvs/etcd';
import type { ControlSurface, DataPathEvents, TableChange, Vtep } from '../datapath/control-surface.js';
import { DigestPublisher } from './digest-publisher.js';
import { LeasePublisher } from './lease-publisher.js';
import { reportLost, seqBound, seqToReport } from './mobility-seq.js';
import { OutageLog } from './outage-log.js';
import { silentSyncLogger, type SyncLogger } from './sync-logger.js';
import { TableFollower } from './table-follower.js';
import { TableState } from './table-state.js';
import { mirrorConfigFor } from './mirror-config.js';
import type { MirrorConfig } from '../datapath/index.js';

/** Most IPs one report carries (the record's limit). */
const MAX_REPORTED_IPS = 64;

/** The data path's MAC events EtcdSync listens to (DataPath satisfies it). */
export interface MacEventSource {
  on(event: 'mac:local', listener: (e: DataPathEvents['mac:local']) => void): unknown;
  on(event: 'mac:gone', listener: (e: DataPathEvents['mac:gone']) => void): unknown;
  on(event: 'ip:bound', listener: (e: DataPathEvents['ip:bound']) => void): unknown;
  off(event: 'mac:local', listener: (e: DataPathEvents['mac:local']) => void): unknown;
  off(event: 'mac:gone', listener: (e: DataPathEvents['mac:gone']) => void): unknown;
  off(event: 'ip:bound', listener: (e: DataPathEvents['ip:bound']) => void): unknown;
}

/** A port of this host as it is published: the wire's port record, the host left to EtcdSync. */
export type LocalPortInfo = Omit<PortRecord, 'host'>;

export interface EtcdSyncOptions {
  host: string;
  /** Underlay address and VXLAN port. */
  vtep: Vtep;
  /** UDP port per encap when not the default (gre-udp 4754; vxlan = vtep.port). */
  encapPorts?: Partial<Record<Encap, number>>;
  /** The port this host takes tunnel probes on, when not its VXLAN port (HostRecord.probePort). */
  probePort?: number;
  encaps: Encap[];
  /** What this host says about itself (`rack: r1`); networks may admit hosts by label. */
  labels?: Record<string, string>;
  /** The provider that owns this host's VXLAN port and why (published for `dvs networks show`). */
  datapath?: VxlanOwner;
  agentVersion: string;
  /** Agent start time (ms); default now. */
  startedAt?: number;
  etcd: EtcdConnectionOptions;
  /** Key prefix, default `/dvs/v1/`. */
  prefix?: string;
  /** Lease TTL in seconds (default 10): how long after a crash the host leaves the tables. */
  leaseTtlSeconds?: number;
  surface: ControlSurface;
  events?: MacEventSource;
  log?: SyncLogger;
  clock?: () => number;
  /** Longest stretch (ms) the data path waits while a large table is applied (default 2). */
  applySliceMs?: number;
  /** How often the table digests are checked and published when changed (ms, default 1000). */
  digestIntervalMs?: number;
  /** Keys per page of a full read (default 1000). */
  readPageSize?: number;
  /** This host's share of the controller's port mirrors, each time it changes (etcd-sync/mirror-config.ts). */
  mirrors?: (config: MirrorConfig) => void;
  /** This host's port QoS from the controller (port name → policers), each time it changes. */
  portQos?: (qos: Map<string, PortQos>) => void;
  /** The cluster's sFlow or IPFIX settings (null: none), each time one changes. */
  flowExport?: (exporter: FlowExporterName, settings: SflowSettings | IpfixSettings | null) => void;
  signal?: AbortSignal;
}

export interface EtcdSyncStatus {
  etcdUp: boolean;
  /** Last etcd revision applied from the table watch. */
  revision: number;
  /** Full reads of the tables (1 = initial load; more = resyncs after compaction). */
  tableLoads: number;
  leaseId: string | null;
  /** This host's MAC reports and ports in etcd. */
  reports: number;
  ports: number;
  /** Cached tables. */
  networks: number;
  fdbEntries: number;
  floodLists: number;
  hosts: number;
  /** Keys ignored because their record does not decode. */
  invalidRecords: number;
  /** VNIs whose FDB and flood list this host follows (those it has ports in). */
  followedVnis: number[];
  /** Applying tables to the data path: slices run, the longest (ms), jobs still queued. */
  apply: { slices: number; maxSliceMs: number; maxSliceCpuMs: number; pending: number; changes: number };
}

export interface EtcdSyncEvents {
  /** A full read of the tables was applied (initial load or resync). */
  'sync:loaded': [revision: number];
  'sync:resync': [reason: string];
  'etcd:down': [];
  'etcd:up': [];
  'lease:granted': [leaseId: string];
  'lease:lost': [reason: string];
  /** Changes handed to apply(), in order. */
  'tables:applied': [changes: readonly TableChange[]];
}

export class EtcdSync extends EventEmitter<EtcdSyncEvents> {
  readonly keys: KeyLayout;
  readonly tables: TableState;
  private readonly client: Etcd3;
  private readonly outage: OutageLog;
  private readonly publisher: LeasePublisher;
  private readonly follower: TableFollower;
  private readonly digests: DigestPublisher;
  /** Follows `resync/<host>`: VNIs the controller asks this host to apply afresh (`dvs audit --repair`). */
  private readonly resyncs: KeyspaceFollower;
  private lastResyncId: string | null = null;
  private readonly log: SyncLogger;
  private readonly clock: () => number;
  /** Our MAC reports by etcd key. */
  private readonly reports = new Map<string, ReportRecord>();
  private readonly portKeys = new Set<string>();
  /** The mirror configuration last handed to the data path (JSON), so an unrelated host change hands nothing. */
  private handedMirrors = '';
  private started = false;
  private stopped = false;

  private readonly onMacLocal = (e: DataPathEvents['mac:local']): void => this.reportLocal(e.vni, e.mac, e.port, e.seq);
  private readonly onIpBound = (e: DataPathEvents['ip:bound']): void => this.reportIp(e.vni, e.mac, e.ip);
  /**
   * A MAC leaving a local port while we apply table changes was displaced by
   * an FDB entry (the data path gives up a local entry on a tie): whether our
   * report stands is the mobility rule's call, not the data path's. Any other
   * mac:gone (aged out, port removed) withdraws the report.
   */
  private readonly onMacGone = (e: DataPathEvents['mac:gone']): void => {
    if (this.applying) this.checkDisplaced(e.vni, e.mac);
    else this.withdrawLocal(e.vni, e.mac, e.port);
  };
  private applying = false;

  constructor(private readonly options: EtcdSyncOptions) {
    super();
    this.keys = new KeyLayout(options.prefix);
    this.log = options.log ?? silentSyncLogger;
    this.clock = options.clock ?? Date.now;
    this.client = createEtcdClient(options.etcd);
    this.outage = new OutageLog(this.log, this.clock, (down) => this.emit(down ? 'etcd:down' : 'etcd:up'));
    this.tables = new TableState(this.keys, { host: options.host, vtep: options.vtep });
    // The host key goes first under every new lease: the controller accepts reports
    // only under the lease of the host's record, so it must never see them before it.
    this.publisher = new LeasePublisher(
      this.client,
      options.leaseTtlSeconds ?? 10,
      this.outage,
      this.log,
      this.keys.host(options.host),
    );
    this.publisher.on('lease:granted', (id) => this.emit('lease:granted', id));
    this.publisher.on('lease:lost', (reason) => this.emit('lease:lost', reason));
    this.follower = new TableFollower({
      client: this.client,
      keys: this.keys,
      tables: this.tables,
      outage: this.outage,
      log: this.log,
      apply: (changes) => this.applyChanges(changes),
      changed: (key) => {
        this.checkReports(key);
        this.checkMirrors(key);
        this.checkPortQos(key);
        this.checkFlowExport(key);
      },
      ...(options.applySliceMs !== undefined ? { sliceMs: options.applySliceMs } : {}),
      ...(options.readPageSize !== undefined ? { pageSize: options.readPageSize } : {}),
    });
    this.digests = new DigestPublisher({
      host: options.host,
      surface: options.surface,
      tables: this.tables,
      followed: () => this.follower.followedVnis,
      busy: () => this.follower.queue.stats.pending > 0,
      publish: (record) => this.publisher.set(this.keys.digest(options.host), record),
      clock: this.clock,
      ...(options.digestIntervalMs !== undefined ? { intervalMs: options.digestIntervalMs } : {}),
    });
    const resyncKey = this.keys.resync(options.host);
    this.resyncs = new KeyspaceFollower(
      this.client,
      { start: resyncKey, end: resyncKey + '\0' },
      {
        reset: (kvs: FollowedKv[]) => {
          for (const kv of kvs) this.resyncRequested(kv);
        },
        put: (kv: FollowedKv) => this.resyncRequested(kv),
        delete: () => undefined,
      },
      { label: 'resync requests' },
    );
    this.follower.on('sync:loaded', (revision) => this.emit('sync:loaded', revision));
    this.follower.on('sync:resync', (reason) => this.emit('sync:resync', reason));
    this.publisher.set(
      this.keys.host(options.host),
      encodeHost({
        host: options.host,
        vtep: { address: options.vtep.address, port: options.vtep.port },
        ...(options.encapPorts !== undefined ? { encapPorts: { ...options.encapPorts } } : {}),
        encaps: [...options.encaps],
        ...(options.labels !== undefined && Object.keys(options.labels).length > 0
          ? { labels: { ...options.labels } }
          : {}),
        ...(options.datapath !== undefined ? { datapath: { ...options.datapath } } : {}),
        agentVersion: options.agentVersion,
        ...(options.probePort !== undefined ? { probePort: options.probePort } : {}),
        startedAt: options.startedAt ?? this.clock(),
      }),
    );
  }

  get etcdUp(): boolean {
    return !this.outage.down && this.started;
  }

  /** A JSON snapshot for the admin socket and metrics. */
  status(): EtcdSyncStatus {
    return {
      etcdUp: this.etcdUp,
      revision: this.tables.revision,
      tableLoads: this.follower.loads,
      leaseId: this.publisher.leaseId,
      reports: this.reports.size,
      ports: this.portKeys.size,
      networks: this.tables.networks.size,
      fdbEntries: this.tables.fdb.size,
      floodLists: this.tables.flood.size,
      hosts: this.tables.hosts.size,
      invalidRecords: this.tables.invalid.size,
      followedVnis: this.follower.followedVnis,
      apply: {
        slices: this.follower.queue.stats.slices,
        maxSliceMs: this.follower.queue.stats.maxSliceMs,
        maxSliceCpuMs: this.follower.queue.stats.maxSliceCpuMs,
        pending: this.follower.queue.stats.pending,
        changes: this.follower.queue.stats.changes,
      },
    };
  }

  /** Lease currently held (hex or decimal as etcd3 gives it), or null. */
  get leaseId(): string | null {
    return this.publisher.leaseId;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.events?.on('mac:local', this.onMacLocal);
    this.options.events?.on('mac:gone', this.onMacGone);
    this.options.events?.on('ip:bound', this.onIpBound);
    this.publisher.start();
    this.follower.start();
    this.resyncs.start();
    this.digests.start();
    this.options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.log.info('etcd sync started', {
      host: this.options.host,
      endpoints: this.options.etcd.endpoints.join(','),
      prefix: this.keys.prefix,
    });
  }

  /**
   * Resolves once the tables were read from etcd and applied: the networks
   * and hosts, and the FDB and flood list of every VNI followed now (the
   * agent may serve before that on static config).
   */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.follower.loaded) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.off('sync:loaded', onLoaded);
        reject(signal!.reason as Error);
      };
      const onLoaded = (): void => {
        if (!this.follower.loaded) return;
        this.off('sync:loaded', onLoaded);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.on('sync:loaded', onLoaded);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves when every table change received so far is applied to the data path. */
  applied(): Promise<void> {
    return this.follower.queue.idle();
  }

  /** Resolves when every key of this host is written under a live lease. */
  published(): Promise<void> {
    return this.publisher.idle();
  }

  /**
   * Stops following etcd. `revoke` (default) removes this host's keys at once
   * (graceful shutdown: the host leaves the tables now instead of after the
   * TTL): its reports and ports first, so the controller sees a host that
   * left, not one that lost its lease.
   */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.options.events?.off('mac:local', this.onMacLocal);
    this.options.events?.off('mac:gone', this.onMacGone);
    this.options.events?.off('ip:bound', this.onIpBound);
    this.digests.stop();
    await this.resyncs.stop();
    await this.follower.stop();
    const revoke = options.revoke ?? true;
    await this.publisher.stop(
      revoke,
      revoke ? [this.keys.reportsOf(this.options.host), this.keys.portsOf(this.options.host)] : [],
    );
    this.client.close();
    this.log.info('etcd sync stopped', { host: this.options.host });
  }

  // ---- what this host publishes ------------------------------------------

  /** A MAC is local to this host on `port` (called for the data path's mac:local). */
  reportLocal(vni: number, mac: number, port: string, dataPathSeq = 0): void {
    if (!isValidMac(mac)) return;
    const macText = formatMac(mac);
    const key = this.keys.report(this.options.host, vni, macText);
    const seq = seqToReport(dataPathSeq, this.tables.entry(vni, macText), this.options.host);
    const existing = this.reports.get(key);
    if (existing !== undefined && existing.port === port && existing.seq >= seq && this.publisher.has(key)) return;
    const record: ReportRecord = {
      vni,
      mac: macText,
      host: this.options.host,
      port,
      seq,
      // The binding moves with the MAC: a MAC new here (a VM that migrated in) keeps the IPs the table gave it.
      ips: existing?.ips ?? [...(this.tables.entry(vni, macText)?.ips ?? [])],
      seenAt: this.clock(),
    };
    this.reports.set(key, record);
    this.publisher.set(key, encodeReport(record));
  }

  /**
   * A local MAC was seen owning an IP (the data path's ip:bound): the IP joins
   * its report (EVPN's MAC+IP route), and leaves any other report of ours in
   * the VNI (it was bound to a MAC that is no longer live).
   */
  reportIp(vni: number, mac: number, ip: string): void {
    if (!isValidMac(mac)) return;
    const key = this.keys.report(this.options.host, vni, formatMac(mac));
    for (const [otherKey, other] of this.reports) {
      if (otherKey === key || other.vni !== vni || !other.ips.includes(ip)) continue;
      const without = { ...other, ips: other.ips.filter((x) => x !== ip) };
      this.reports.set(otherKey, without);
      this.publisher.set(otherKey, encodeReport(without));
    }
    const report = this.reports.get(key);
    if (report === undefined || report.ips.includes(ip) || report.ips.length >= MAX_REPORTED_IPS) return;
    const withIp = { ...report, ips: [...report.ips, ip].sort() };
    this.reports.set(key, withIp);
    this.publisher.set(key, encodeReport(withIp));
  }

  /** A local MAC aged out or left (mac:gone); `port` guards against a stale event for an older port. */
  withdrawLocal(vni: number, mac: number, port?: string): void {
    if (!isValidMac(mac)) return;
    const macText = formatMac(mac);
    const key = this.keys.report(this.options.host, vni, macText);
    const existing = this.reports.get(key);
    if (existing === undefined || (port !== undefined && existing.port !== port)) return;
    this.reports.delete(key);
    this.publisher.delete(key);
  }

  /** The complete list of this host's ports (replaces the previous one). */
  publishPorts(ports: readonly LocalPortInfo[]): void {
    const keep = new Set<string>();
    for (const p of ports) {
      const key = this.keys.port(this.options.host, p.port);
      keep.add(key);
      this.publisher.set(
        key,
        encodePort({
          host: this.options.host,
          port: p.port,
          mode: p.mode,
          bindings: p.bindings.map((b) => ({ vni: b.vni, vlan: b.vlan })),
          state: p.state,
          macCount: p.macCount,
          kind: p.kind,
          deviceKind: p.deviceKind,
          since: p.since,
        }),
      );
    }
    for (const key of this.portKeys) if (!keep.has(key)) this.publisher.delete(key);
    this.portKeys.clear();
    for (const key of keep) this.portKeys.add(key);
    this.follower.follow(new Set(ports.flatMap((p) => p.bindings.map((b) => b.vni))));
  }

  /** This host's tunnel health (`status/<host>`). */
  publishTunnelStatus(record: TunnelStatusRecord): void {
    this.publisher.set(this.keys.status(this.options.host), encodeTunnelStatus({ ...record, host: this.options.host }));
  }

  /** Publishes the table digests now if they changed (tests; otherwise every second). */
  publishDigests(): boolean {
    return this.digests.check();
  }

  /**
   * Applies one VNI afresh (`dvs audit --repair`): the data path is given
   * back what this agent handed it (what differs), and the VNI's FDB and
   * flood list are read from etcd again.
   */
  resyncVni(vni: number): boolean {
    const { surface } = this.options;
    const tables = this.tables;
    if (!this.follower.followedVnis.includes(vni)) return false;
    this.follower.queue.push(function* () {
      yield tables.repairChanges(vni, surface.controlEntries?.(vni) ?? new Map());
    });
    this.follower.refollow(vni);
    return true;
  }

  private resyncRequested(kv: FollowedKv): void {
    const request = decodeResyncRequest(kv.value);
    if (request instanceof RecordError || request.host !== this.options.host) return;
    if (request.id === this.lastResyncId) return;
    this.lastResyncId = request.id;
    const done = request.vnis.filter((vni) => this.resyncVni(vni));
    this.log.info('resync requested by the controller: VNIs applied afresh', {
      vnis: done.join(','),
      notFollowed: request.vnis.filter((v) => !done.includes(v)).join(','),
    });
  }

  // ---- following the tables -------------------------------------------------

  private applyChanges(changes: readonly TableChange[]): void {
    this.applying = true;
    try {
      const { rejected } = this.options.surface.apply(changes);
      if (rejected.length > 0) {
        // Records were validated when decoded, so this is a disagreement between the record and
        // data-path rules: say it loudly. The data path keeps its tables; a resync retries.
        this.log.error('the data path refused a batch of table changes: none of it was applied', {
          changes: changes.length,
          rejected: rejected.length,
          first: `${rejected[0]!.kind} #${rejected[0]!.index}: ${rejected[0]!.reason}`,
        });
      }
    } finally {
      this.applying = false;
    }
    this.emit('tables:applied', changes);
  }

  private checkDisplaced(vni: number, mac: number): void {
    if (!isValidMac(mac)) return;
    const macText = formatMac(mac);
    const key = this.keys.report(this.options.host, vni, macText);
    const report = this.reports.get(key);
    if (report !== undefined && this.lost(report)) this.withdrawReport(key, report);
  }

  private lost(report: ReportRecord): boolean {
    return reportLost(
      report.seq,
      this.tables.entry(report.vni, report.mac),
      this.options.host,
      this.options.vtep.address,
    );
  }

  /** Hands the agent this host's port QoS when a `limits/` key changed (or after a full read). */
  private checkPortQos(key: string | null): void {
    const handOver = this.options.portQos;
    if (handOver === undefined) return;
    if (key !== null && this.keys.parse(key)?.kind !== 'qos') return;
    const mine = new Map<string, PortQos>();
    for (const { record } of this.tables.portQos.values())
      if (record.host === this.options.host) mine.set(record.port, { ingress: record.ingress, egress: record.egress });
    handOver(mine);
  }

  /** Hands the agent the cluster's flow export settings when a `flow-export/` key changed (or after a full read). */
  private checkFlowExport(key: string | null): void {
    const handOver = this.options.flowExport;
    if (handOver === undefined) return;
    const parsed = key === null ? null : this.keys.parse(key);
    if (key !== null && parsed?.kind !== 'flow-export') return;
    const exporters = parsed?.kind === 'flow-export' ? [parsed.exporter] : FLOW_EXPORTERS;
    for (const exporter of exporters) {
      const cached = this.tables.flowExport.get(exporter)?.record;
      if (cached === undefined) {
        handOver(exporter, null);
        continue;
      }
      const { updatedAt: _updatedAt, ...settings } = cached;
      handOver(exporter, settings);
    }
  }

  /** Hands the data path this host's share of the mirrors when a mirror or a host changed it. */
  private checkMirrors(key: string | null): void {
    const handOver = this.options.mirrors;
    if (handOver === undefined) return;
    const kind = key === null ? null : this.keys.parse(key)?.kind;
    if (kind !== null && kind !== 'mirror' && kind !== 'host') return;
    const hosts = new Map([...this.tables.hosts].map(([name, c]) => [name, c.record]));
    const config = mirrorConfigFor(
      this.options.host,
      [...this.tables.mirrors.values()].map((c) => c.record),
      hosts,
    );
    const text = JSON.stringify(config);
    if (text === this.handedMirrors) return;
    this.handedMirrors = text;
    try {
      handOver(config);
    } catch (err) {
      this.log.warn('the mirrors from etcd were refused by the data path', { error: (err as Error).message });
    }
  }

  /**
   * Reviews our reports against the authoritative FDB (`key` = one changed
   * key, null = all): a report that lost is withdrawn; one whose seq is now
   * above what the controller accepts (its entry went, or was reset to a lower
   * seq) is lowered to that bound, so it is never ignored for good.
   */
  private checkReports(key: string | null): void {
    if (key !== null) {
      const parsed = this.keys.parseFdb(key);
      if (parsed === null) return;
      const reportKey = this.keys.report(this.options.host, parsed.vni, parsed.mac);
      const report = this.reports.get(reportKey);
      if (report !== undefined) this.reviewReport(reportKey, report);
      return;
    }
    for (const [reportKey, report] of this.reports) this.reviewReport(reportKey, report);
  }

  private reviewReport(key: string, report: ReportRecord): void {
    if (this.lost(report)) {
      this.withdrawReport(key, report);
      return;
    }
    const bound = seqBound(this.tables.entry(report.vni, report.mac));
    if (report.seq <= bound) return;
    const lowered = { ...report, seq: bound };
    this.reports.set(key, lowered);
    this.publisher.set(key, encodeReport(lowered));
  }

  private withdrawReport(key: string, report: ReportRecord): void {
    const entry = this.tables.entry(report.vni, report.mac);
    this.log.info(
      'MAC report withdrawn: the table places it elsewhere with a higher seq, or won the tie with a lower VTEP',
      {
        vni: report.vni,
        mac: report.mac,
        seq: report.seq,
        tableHost: entry?.host ?? null,
        tableSeq: entry?.seq ?? null,
      },
    );
    this.reports.delete(key);
    this.publisher.delete(key);
  }
}
