/**
 * The controller's in-memory copy of the dvs keyspace, fed by a KeyspaceFollower (@dvs/etcd):
 * decoded records by kind, each with its etcd mod revision (for guarded
 * writes). Records that fail to decode are left out and counted by kind
 * (invalid-records.ts); a record is either valid or absent here.
 *
 * It also remembers hosts whose key vanished (lease expiry) for an hour, so
 * operators see them as `down` instead of silently gone, and the leases each
 * host held before its current one (to tell a restarted agent's leftovers
 * from records written under a lease the host never held). Layout-1 report
 * keys (`reports/<vni>/<mac>/<host>`, an agent older than the key layout)
 * are kept apart in `legacyReports`: they never reach the tables.
 *
 * A host whose lease expired keeps its reports and ports here, stale, as the
 * stale policy says (stale-hosts.ts). A watch response delivers a lease's
 * deletions together, in any order; at its end (`flush`) the records of a
 * host deleted in it are taken into that memory.
 *
 * Every change is also handed, record by record, to one listener (the
 * leader's incremental tables); indexes by host, MAC and VNI let it find what
 * depends on a change without a scan.
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
  decodeTableDigest,
  decodeResyncRequest,
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
  type TableDigestRecord,
  type ResyncRequestRecord,
} from '@dvs/wire';
import type { FollowedKv, KeyspaceSink } from '@dvs/etcd';
import { InvalidRecords } from './invalid-records.js';
import { probeEvidence, staleEnd, type StaleEnd, type StaleHost, type StalePolicy } from './stale-hosts.js';
import type { ViewChange, ViewChangeListener } from './view-change.js';

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
  /** Keys of one kind that do not decode: `fresh` of them newly, `total` now. */
  'records:invalid': [kind: KeyKind, fresh: number, total: number, example: { key: string; error: RecordError }];
  /** A layout-1 report key was written (an agent older than the key layout). */
  'legacy:report': [key: string];
  /** A host lost its lease and its records are kept stale. */
  'host:stale': [host: string, reports: number, ports: number];
  /** The stale memory of a host ended. */
  'host:stale-end': [host: string, why: StaleEnd];
}

const DOWN_HOST_MEMORY_MS = 3600_000;
/** Earlier leases remembered per host: enough for a few quick restarts. */
const PAST_LEASES_KEPT = 4;

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([value]));
  else set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

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
  /** What each agent's data path holds, per VNI (`digests/<host>`, for `dvs audit`). */
  readonly digests = new Map<string, Versioned<TableDigestRecord>>();
  /** Resync requests written for agents (`resync/<host>`). */
  readonly resyncs = new Map<string, Versioned<ResyncRequestRecord>>();
  /** Election keys: full key → { value (controller id), createRevision }. */
  readonly election = new Map<string, { id: string; createRevision: number }>();
  readonly downHosts = new Map<string, DownHost>();
  /** Hosts that lost their lease, with the records kept for them (stale-hosts.ts). */
  readonly stale = new Map<string, StaleHost>();
  /** Leases each host held before its current one, newest first. */
  readonly pastLeases = new Map<string, string[]>();
  /** Layout-1 report keys, by full key. */
  readonly legacyReports = new Map<string, LegacyReport>();
  /** Keys whose value did not decode, counted by kind. */
  readonly invalid = new InvalidRecords();

  // Indexes (kept with the maps above).
  /** Report keys by host. */
  readonly reportsByHost = new Map<string, Set<string>>();
  /** Report keys by `${vni}/${mac}`. */
  readonly reportsByMac = new Map<string, Set<string>>();
  /** `${vni}/${mac}` of reported MACs, by VNI. */
  readonly reportedMacsByVni = new Map<number, Set<string>>();
  /** `${vni}/${mac}` of FDB entries, by VNI. */
  readonly fdbByVni = new Map<number, Set<string>>();
  /** Port keys (`${host}/${port}`) by host. */
  readonly portsByHost = new Map<string, Set<string>>();

  revision = 0;
  loaded = false;
  /** Gets every change, record by record (the leader's incremental tables). */
  changeListener: ViewChangeListener | null = null;
  /** Stale policy: with `graceMs` 0 a lost host is ejected at once. */
  stalePolicy: StalePolicy | null = null;

  /** Deleted in the current watch response, for `flush` (a lost lease deletes a host's keys together). */
  private lostNow = new Map<string, number>();
  private deletedNow: {
    key: string;
    host: string;
    kind: 'report' | 'port';
    value: Versioned<unknown>;
    revision: number;
  }[] = [];
  private invalidNow = new Map<KeyKind, number>();

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
      const kind = this.applyDelete(key, revision);
      if (kind !== null) changed.add(kind);
    }
    this.revision = revision;
    this.loaded = true;
    this.settle();
    this.emit('view:changed', changed.size > 0 ? changed : new Set<KeyKind>(['network']));
  }

  put(kv: FollowedKv): void {
    const kind = this.applyPut(kv);
    this.revision = Math.max(this.revision, kv.modRevision);
    if (kind !== null) this.emit('view:changed', new Set([kind]));
  }

  delete(key: string, revision: number): void {
    const kind = this.applyDelete(key, revision);
    this.revision = Math.max(this.revision, revision);
    if (kind !== null) this.emit('view:changed', new Set([kind]));
  }

  /** End of a watch response: a lost host's records deleted in it are kept stale. */
  flush(): void {
    this.settle();
  }

  /**
   * The leader's own write, applied at once (its watch echo, at the same mod
   * revision, then changes nothing). Announced to no one: the leader's tables
   * know what they wrote.
   */
  applyOwnWrite(key: string, value: Buffer | null, revision: number): void {
    const listener = this.changeListener;
    this.changeListener = null;
    try {
      if (value === null) this.applyDelete(key, revision);
      else this.applyPut({ key, value, modRevision: revision, createRevision: revision, lease: '0' });
    } finally {
      this.changeListener = listener;
    }
    this.revision = Math.max(this.revision, revision);
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

  /** Host records the tables use: live ones, and the last record of each stale host not back yet. */
  tableHosts(): Map<string, HostRecord> {
    const out = this.liveHosts();
    for (const [id, s] of this.stale) if (!out.has(id)) out.set(id, s.record);
    return out;
  }

  expireDownHosts(): void {
    const now = this.clock();
    for (const [id, down] of this.downHosts) {
      if (now - down.lostAt <= DOWN_HOST_MEMORY_MS) continue;
      this.downHosts.delete(id);
      if (!this.hosts.has(id)) this.pastLeases.delete(id);
    }
  }

  /** Ends the stale memory of hosts the policy no longer keeps; returns how many ended. */
  expireStale(now: number = this.clock()): number {
    const policy = this.stalePolicy;
    if (policy === null) return 0;
    let ended = 0;
    const statuses = [...this.status.values()].map((v) => v.record);
    for (const stale of [...this.stale.values()]) {
      const why = staleEnd(stale, policy, now, policy.probes ? probeEvidence(stale, statuses) : 'none');
      if (why === null) continue;
      this.dropStale(stale.host);
      this.emit('host:stale-end', stale.host, why);
      ended++;
    }
    if (ended > 0) this.emit('view:changed', new Set<KeyKind>(['host']));
    return ended;
  }

  private dropStale(host: string): void {
    const stale = this.stale.get(host);
    if (stale === undefined) return;
    this.stale.delete(host);
    for (const [key, r] of stale.reports) this.notify(this.reportChange(key, r.record));
    for (const key of stale.ports.keys()) this.notify({ kind: 'port', key, host });
    this.notify({ kind: 'host', host });
  }

  private notify(change: ViewChange): void {
    this.changeListener?.(change);
  }

  private reportChange(key: string, r: { host: string; vni: number; mac: string }): ViewChange {
    return { kind: 'report', key, host: r.host, vni: r.vni, mac: r.mac };
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

  /** After a batch of changes: lost hosts' records into the stale memory, invalid records announced. */
  private settle(): void {
    const policy = this.stalePolicy;
    const staleBefore = new Set(this.stale.keys());
    for (const host of this.lostNow.keys()) {
      if (this.hosts.has(host) || policy === null || policy.graceMs <= 0) continue;
      const down = this.downHosts.get(host);
      if (down === undefined) continue;
      const earlier = this.stale.get(host);
      if (earlier !== undefined && earlier.returnedAt === null) continue;
      // Lost again after coming back: what it had not republished goes, its records now are kept.
      if (earlier !== undefined) {
        this.dropStale(host);
        staleBefore.delete(host);
      }
      this.stale.set(host, {
        host,
        record: down.record,
        lease: down.lease,
        lostAt: down.lostAt,
        returnedAt: null,
        reports: new Map(),
        ports: new Map(),
      });
    }
    const taken = new Map<string, { reports: number; ports: number }>();
    for (const d of this.deletedNow) {
      const stale = this.stale.get(d.host);
      if (stale === undefined || stale.returnedAt !== null || this.hosts.has(d.host)) continue;
      if (d.value.lease !== stale.lease) continue; // not of the lease that was lost
      // Deleted with the host record (the lease went), or after it: not withdrawn while it was live.
      if (!staleBefore.has(d.host) && d.revision < (this.lostNow.get(d.host) ?? Infinity)) continue;
      const t = taken.get(d.host) ?? { reports: 0, ports: 0 };
      taken.set(d.host, t);
      if (d.kind === 'report') {
        const r = d.value as Versioned<ReportRecord>;
        stale.reports.set(d.key, r);
        this.notify(this.reportChange(d.key, r.record));
        t.reports++;
      } else {
        stale.ports.set(d.key, d.value as Versioned<PortRecord>);
        this.notify({ kind: 'port', key: d.key, host: d.host });
        t.ports++;
      }
    }
    for (const host of this.lostNow.keys()) {
      const stale = this.stale.get(host);
      if (stale === undefined || staleBefore.has(host)) continue;
      if (stale.reports.size === 0 && stale.ports.size === 0 && !taken.has(host)) {
        this.stale.delete(host); // nothing to keep: it left cleanly
        continue;
      }
      this.notify({ kind: 'host', host });
      this.emit('host:stale', host, stale.reports.size, stale.ports.size);
    }
    this.lostNow = new Map();
    this.deletedNow = [];
    for (const [kind, fresh] of this.invalidNow) {
      const k = this.invalid.byKind().find(([name]) => name === kind)?.[1];
      if (k !== undefined) this.emit('records:invalid', kind, fresh, k.count, k.example);
    }
    this.invalidNow = new Map();
  }

  private decoded<T>(kv: FollowedKv, kind: KeyKind, result: T | RecordError): T | null {
    if (result instanceof RecordError) {
      if (this.invalid.add(kv.key, kind, result)) this.invalidNow.set(kind, (this.invalidNow.get(kind) ?? 0) + 1);
      return null;
    }
    this.invalid.delete(kv.key);
    return result;
  }

  /** Returns the section that changed, or null for a foreign or unchanged key. */
  private applyPut(kv: FollowedKv): KeyKind | null {
    const parsed = this.keys.parse(kv.key);
    if (parsed === null) return this.applyLegacyPut(kv);
    const m = kv.modRevision;
    const lease = kv.lease;
    switch (parsed.kind) {
      case 'host': {
        if (this.hosts.get(parsed.host)?.modRevision === m) return null;
        const r = this.decoded(kv, 'host', decodeHost(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key, m, true);
        this.rememberLease(parsed.host, lease);
        this.hosts.set(parsed.host, { record: r, modRevision: m, lease });
        this.downHosts.delete(parsed.host);
        const stale = this.stale.get(parsed.host);
        if (stale !== undefined && stale.returnedAt === null) stale.returnedAt = this.clock();
        this.notify({ kind: 'host', host: parsed.host });
        break;
      }
      case 'port': {
        const id = `${parsed.host}/${parsed.port}`;
        if (this.ports.get(id)?.modRevision === m) return null;
        const r = this.decoded(kv, 'port', decodePort(kv.value));
        if (r === null || r.host !== parsed.host || r.port !== parsed.port) return this.applyDelete(kv.key, m, true);
        this.ports.set(id, { record: r, modRevision: m, lease });
        addTo(this.portsByHost, parsed.host, id);
        this.stale.get(parsed.host)?.ports.delete(id); // republished: no longer stale
        this.notify({ kind: 'port', key: id, host: parsed.host });
        break;
      }
      case 'report': {
        if (this.reports.get(kv.key)?.modRevision === m) return null;
        const r = this.decoded(kv, 'report', decodeReport(kv.value));
        if (r === null || r.vni !== parsed.vni || r.mac !== parsed.mac || r.host !== parsed.host) {
          return this.applyDelete(kv.key, m, true);
        }
        this.reports.set(kv.key, { record: r, modRevision: m, lease });
        const mac = `${r.vni}/${r.mac}`;
        addTo(this.reportsByHost, r.host, kv.key);
        addTo(this.reportsByMac, mac, kv.key);
        addTo(this.reportedMacsByVni, r.vni, mac);
        this.stale.get(parsed.host)?.reports.delete(kv.key); // republished: no longer stale
        this.notify(this.reportChange(kv.key, r));
        break;
      }
      case 'network': {
        if (this.networks.get(parsed.vni)?.modRevision === m) return null;
        const r = this.decoded(kv, 'network', decodeNetwork(kv.value));
        if (r === null || r.vni !== parsed.vni) return this.applyDelete(kv.key, m, true);
        this.networks.set(parsed.vni, { record: r, modRevision: m, lease });
        this.notify({ kind: 'network', vni: parsed.vni });
        break;
      }
      case 'fdb': {
        const id = `${parsed.vni}/${parsed.mac}`;
        if (this.fdb.get(id)?.modRevision === m) return null;
        const r = this.decoded(kv, 'fdb', decodeFdbEntry(kv.value));
        if (r === null || r.vni !== parsed.vni || r.mac !== parsed.mac) return this.applyDelete(kv.key, m, true);
        this.fdb.set(id, { record: r, modRevision: m, lease });
        addTo(this.fdbByVni, parsed.vni, id);
        this.notify({ kind: 'fdb', vni: parsed.vni, mac: parsed.mac });
        break;
      }
      case 'flood': {
        if (this.flood.get(parsed.vni)?.modRevision === m) return null;
        const r = this.decoded(kv, 'flood', decodeFloodList(kv.value));
        if (r === null || r.vni !== parsed.vni) return this.applyDelete(kv.key, m, true);
        this.flood.set(parsed.vni, { record: r, modRevision: m, lease });
        this.notify({ kind: 'flood', vni: parsed.vni });
        break;
      }
      case 'status': {
        if (this.status.get(parsed.host)?.modRevision === m) return null;
        const r = this.decoded(kv, 'status', decodeTunnelStatus(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key, m, true);
        this.status.set(parsed.host, { record: r, modRevision: m, lease });
        break;
      }
      case 'digest': {
        if (this.digests.get(parsed.host)?.modRevision === m) return null;
        const r = this.decoded(kv, 'digest', decodeTableDigest(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key, m, true);
        this.digests.set(parsed.host, { record: r, modRevision: m, lease });
        break;
      }
      case 'resync': {
        const r = this.decoded(kv, 'resync', decodeResyncRequest(kv.value));
        if (r === null || r.host !== parsed.host) return this.applyDelete(kv.key, m, true);
        this.resyncs.set(parsed.host, { record: r, modRevision: m, lease });
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
      if (this.legacyReports.get(kv.key)?.modRevision === kv.modRevision) return null;
      this.legacyReports.set(kv.key, { ...legacy, modRevision: kv.modRevision });
      this.notify({ kind: 'legacy', key: kv.key });
      this.emit('legacy:report', kv.key);
    }
    return null;
  }

  /** `undecodable`: the key's new value does not decode (it stays counted as invalid). */
  private applyDelete(key: string, revision: number, undecodable = false): KeyKind | null {
    if (!undecodable) this.invalid.delete(key);
    const parsed = this.keys.parse(key);
    if (parsed === null) {
      if (this.legacyReports.delete(key)) this.notify({ kind: 'legacy', key });
      return null;
    }
    switch (parsed.kind) {
      case 'host': {
        const previous = this.hosts.get(parsed.host);
        if (previous === undefined) return null;
        this.downHosts.set(parsed.host, { record: previous.record, lostAt: this.clock(), lease: previous.lease });
        this.hosts.delete(parsed.host);
        this.lostNow.set(parsed.host, revision);
        this.notify({ kind: 'host', host: parsed.host });
        break;
      }
      case 'port': {
        const id = `${parsed.host}/${parsed.port}`;
        const previous = this.ports.get(id);
        if (previous === undefined) return null;
        this.ports.delete(id);
        removeFrom(this.portsByHost, parsed.host, id);
        this.deletedNow.push({ key: id, host: parsed.host, kind: 'port', value: previous, revision });
        this.notify({ kind: 'port', key: id, host: parsed.host });
        break;
      }
      case 'report': {
        const previous = this.reports.get(key);
        if (previous === undefined) return null;
        this.reports.delete(key);
        const mac = `${parsed.vni}/${parsed.mac}`;
        removeFrom(this.reportsByHost, parsed.host, key);
        removeFrom(this.reportsByMac, mac, key);
        if (!this.reportsByMac.has(mac)) removeFrom(this.reportedMacsByVni, parsed.vni, mac);
        this.deletedNow.push({ key, host: parsed.host, kind: 'report', value: previous, revision });
        this.notify(this.reportChange(key, parsed));
        break;
      }
      case 'network':
        if (!this.networks.delete(parsed.vni)) return null;
        this.notify({ kind: 'network', vni: parsed.vni });
        break;
      case 'fdb': {
        const id = `${parsed.vni}/${parsed.mac}`;
        if (!this.fdb.delete(id)) return null;
        removeFrom(this.fdbByVni, parsed.vni, id);
        this.notify({ kind: 'fdb', vni: parsed.vni, mac: parsed.mac });
        break;
      }
      case 'flood':
        if (!this.flood.delete(parsed.vni)) return null;
        this.notify({ kind: 'flood', vni: parsed.vni });
        break;
      case 'status':
        if (!this.status.delete(parsed.host)) return null;
        break;
      case 'digest':
        if (!this.digests.delete(parsed.host)) return null;
        break;
      case 'resync':
        if (!this.resyncs.delete(parsed.host)) return null;
        break;
      case 'election':
        if (!this.election.delete(key)) return null;
        break;
    }
    return parsed.kind;
  }
}
