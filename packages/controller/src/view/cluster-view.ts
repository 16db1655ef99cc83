/**
 * The controller's in-memory copy of the dvs keyspace, fed by a KeyspaceFollower (@dvs/etcd):
 * decoded records by kind, each with its etcd mod revision (for guarded
 * writes). Records that fail to decode are left out, counted and reported
 * once per key (`record:invalid`); a record is either valid or absent here.
 *
 * It also remembers hosts whose key vanished (lease expiry) for an hour, so
 * operators see them as `down` instead of silently gone, and the leases each
 * host held before its current one (to tell a restarted agent's leftovers
 * from records written under a lease the host never held). Layout-1 report
 * keys (`reports/<vni>/<mac>/<host>`, an agent older than the key layout)
 * are kept apart in `legacyReports`: they never reach the tables.
 */
import { EventEmitter } from 'node:events';
import {
  decodeFdbEntry,
  decodeFloodList,
  decodeHost,
  decodeNetwork,
  decodePort,
  decodeReport,
  decodeTunnelStatus,
  RecordError,
  type FdbEntryRecord,
  type FloodListRecord,
  type HostRecord,
  type KeyKind,
  type KeyLayout,
  type NetworkRecord,
  type PortRecord,
  type ReportRecord,
  type TunnelStatusRecord,
} from '@dvs/wire';
import type { FollowedKv, KeyspaceSink } from '@dvs/etcd';

export interface Versioned<T> {
  record: T;
  modRevision: number;
  /** The etcd lease the key is attached to ('0': none). */
  lease: string;
}

/** A layout-1 report key seen in the keyspace. */
export interface LegacyReport {
  host: string;
  vni: number;
  mac: string;
  modRevision: number;
}

export interface DownHost {
  record: HostRecord;
  lostAt: number;
  /** The lease it held: its leftovers are recognised when it comes back. */
  lease: string;
}

export interface ClusterViewEvents {
  /** Something changed; `kinds` says which sections. */
  'view:changed': [kinds: ReadonlySet<KeyKind>];
  'record:invalid': [key: string, error: RecordError];
  /** A layout-1 report key was written (an agent older than the key layout). */
  'legacy:report': [key: string];
}

const DOWN_HOST_MEMORY_MS = 3600_000;
/** Earlier leases remembered per host: enough for a few quick restarts. */
const PAST_LEASES_KEPT = 4;

export class ClusterView extends EventEmitter<ClusterViewEvents> implements KeyspaceSink {
  readonly hosts = new Map<string, Versioned<HostRecord>>();
  /** `${host}/${port}` */
  readonly ports = new Map<string, Versioned<PortRecord>>();
  /** full etcd key */
  readonly reports = new Map<string, Versioned<ReportRecord>>();
  readonly networks = new Map<number, Versioned<NetworkRecord>>();
  /** `${vni}/${mac}` */
  readonly fdb = new Map<string, Versioned<FdbEntryRecord>>();
  readonly flood = new Map<number, Versioned<FloodListRecord>>();
  readonly status = new Map<string, Versioned<TunnelStatusRecord>>();
  /** Election keys: full key → { value (controller id), createRevision }. */
  readonly election = new Map<string, { id: string; createRevision: number }>();
  readonly downHosts = new Map<string, DownHost>();
  /** Leases each host held before its current one, newest first. */
  readonly pastLeases = new Map<string, string[]>();
  /** Layout-1 report keys, by full key. */
  readonly legacyReports = new Map<string, LegacyReport>();
  /** Keys whose value did not decode (reported once each). */
  readonly invalid = new Map<string, RecordError>();
  revision = 0;
  loaded = false;

  constructor(
    readonly keys: KeyLayout,
    private readonly clock: () => number = Date.now,
  ) {
    super();
  }

  reset(kvs: FollowedKv[], revision: number): void {
    const before = new Set<string>(this.allKeys());
    const changed = new Set<KeyKind>();
    const seen = new Set<string>();
    for (const kv of kvs) {
      seen.add(kv.key);
      const kind = this.applyPut(kv);
      if (kind !== null) changed.add(kind);
    }
    for (const key of before) {
      if (seen.has(key)) continue;
      const kind = this.applyDelete(key);
      if (kind !== null) changed.add(kind);
    }
    this.revision = revision;
    this.loaded = true;
    this.emit('view:changed', changed.size > 0 ? changed : new Set<KeyKind>(['network']));
  }

  put(kv: FollowedKv): void {
    const kind = this.applyPut(kv);
    this.revision = Math.max(this.revision, kv.modRevision);
    if (kind !== null) this.emit('view:changed', new Set([kind]));
  }

  delete(key: string, revision: number): void {
    const kind = this.applyDelete(key);
    this.revision = Math.max(this.revision, revision);
    if (kind !== null) this.emit('view:changed', new Set([kind]));
  }

  /** Controller id of the current leader: the election key with the lowest create revision. */
  leaderId(): string | null {
    let best: { id: string; createRevision: number } | null = null;
    for (const candidate of this.election.values()) {
      if (best === null || candidate.createRevision < best.createRevision) best = candidate;
    }
    return best?.id ?? null;
  }

  /** Live host records, by id. */
  liveHosts(): Map<string, HostRecord> {
    return new Map([...this.hosts].map(([id, v]) => [id, v.record]));
  }

  expireDownHosts(): void {
    const now = this.clock();
    for (const [id, down] of this.downHosts) {
      if (now - down.lostAt <= DOWN_HOST_MEMORY_MS) continue;
      this.downHosts.delete(id);
      if (!this.hosts.has(id)) this.pastLeases.delete(id);
    }
  }

  private *allKeys(): Iterable<string> {
    for (const id of this.hosts.keys()) yield this.keys.host(id);
    for (const v of this.ports.values()) yield this.keys.port(v.record.host, v.record.port);
    yield* this.reports.keys();
    for (const vni of this.networks.keys()) yield this.keys.network(vni);
    for (const v of this.fdb.values()) yield this.keys.fdb(v.record.vni, v.record.mac);
    for (const vni of this.flood.keys()) yield this.keys.flood(vni);
    for (const id of this.status.keys()) yield this.keys.status(id);
    yield* this.election.keys();
    yield* this.legacyReports.keys();
    yield* this.invalid.keys();
  }

  private decoded<T>(kv: FollowedKv, result: T | RecordError): T | null {
    if (result instanceof RecordError) {
      if (!this.invalid.has(kv.key)) this.emit('record:invalid', kv.key, result);
      this.invalid.set(kv.key, result);
      return null;
    }
    this.invalid.delete(kv.key);
    return result;
  }

  /** Returns the section that changed, or null for a foreign key. */
  private applyPut(kv: FollowedKv): KeyKind | null {
    const parsed = this.keys.parse(kv.key);
    if (parsed === null) return this.applyLegacyPut(kv);
    const m = kv.modRevision;
    const lease = kv.lease;
    switch (parsed.kind) {
      case 'host': {
        const r = this.decoded(kv, decodeHost(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key);
        this.rememberLease(parsed.host, lease);
        this.hosts.set(parsed.host, { record: r, modRevision: m, lease });
        this.downHosts.delete(parsed.host);
        break;
      }
      case 'port': {
        const r = this.decoded(kv, decodePort(kv.value));
        if (r === null || r.host !== parsed.host || r.port !== parsed.port) return this.applyDelete(kv.key);
        this.ports.set(`${parsed.host}/${parsed.port}`, { record: r, modRevision: m, lease });
        break;
      }
      case 'report': {
        const r = this.decoded(kv, decodeReport(kv.value));
        if (r === null || r.vni !== parsed.vni || r.mac !== parsed.mac || r.host !== parsed.host) {
          return this.applyDelete(kv.key);
        }
        this.reports.set(kv.key, { record: r, modRevision: m, lease });
        break;
      }
      case 'network': {
        const r = this.decoded(kv, decodeNetwork(kv.value));
        if (r === null || r.vni !== parsed.vni) return this.applyDelete(kv.key);
        this.networks.set(parsed.vni, { record: r, modRevision: m, lease });
        break;
      }
      case 'fdb': {
        const r = this.decoded(kv, decodeFdbEntry(kv.value));
        if (r === null || r.vni !== parsed.vni || r.mac !== parsed.mac) return this.applyDelete(kv.key);
        this.fdb.set(`${parsed.vni}/${parsed.mac}`, { record: r, modRevision: m, lease });
        break;
      }
      case 'flood': {
        const r = this.decoded(kv, decodeFloodList(kv.value));
        if (r === null || r.vni !== parsed.vni) return this.applyDelete(kv.key);
        this.flood.set(parsed.vni, { record: r, modRevision: m, lease });
        break;
      }
      case 'status': {
        const r = this.decoded(kv, decodeTunnelStatus(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key);
        this.status.set(parsed.host, { record: r, modRevision: m, lease });
        break;
      }
      case 'election':
        this.election.set(kv.key, { id: kv.value.toString(), createRevision: kv.createRevision });
        break;
    }
    return parsed.kind;
  }

  /** The lease a host held until now becomes a past one when its record comes under another. */
  private rememberLease(host: string, lease: string): void {
    const current = this.hosts.get(host)?.lease ?? this.downHosts.get(host)?.lease;
    if (current === undefined || current === lease) return;
    const past = [current, ...(this.pastLeases.get(host) ?? []).filter((l) => l !== current && l !== lease)];
    this.pastLeases.set(host, past.slice(0, PAST_LEASES_KEPT));
  }

  /** A layout-1 report (an old agent); it changes no table, so no section is reported. */
  private applyLegacyPut(kv: FollowedKv): KeyKind | null {
    const legacy = this.keys.parseLegacyReport(kv.key);
    if (legacy !== null) {
      this.legacyReports.set(kv.key, { ...legacy, modRevision: kv.modRevision });
      this.emit('legacy:report', kv.key);
    }
    return null;
  }

  private applyDelete(key: string): KeyKind | null {
    this.invalid.delete(key);
    const parsed = this.keys.parse(key);
    if (parsed === null) {
      this.legacyReports.delete(key);
      return null;
    }
    switch (parsed.kind) {
      case 'host': {
        const previous = this.hosts.get(parsed.host);
        if (previous !== undefined)
          this.downHosts.set(parsed.host, { record: previous.record, lostAt: this.clock(), lease: previous.lease });
        this.hosts.delete(parsed.host);
        break;
      }
      case 'port':
        this.ports.delete(`${parsed.host}/${parsed.port}`);
        break;
      case 'report':
        this.reports.delete(key);
        break;
      case 'network':
        this.networks.delete(parsed.vni);
        break;
      case 'fdb':
        this.fdb.delete(`${parsed.vni}/${parsed.mac}`);
        break;
      case 'flood':
        this.flood.delete(parsed.vni);
        break;
      case 'status':
        this.status.delete(parsed.host);
        break;
      case 'election':
        this.election.delete(key);
        break;
    }
    return parsed.kind;
  }
}
