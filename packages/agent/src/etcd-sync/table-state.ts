/**
 * The agent's cached copy of the tables it follows — networks, the
 * authoritative FDB, flood lists and hosts — and their translation into the
 * data path's TableChange[] (one apply() per etcd watch response or resync).
 *
 * Contracts:
 *  - Incremental: each put/delete yields only the changes it implies; a
 *    resync (`reset`) diffs the new snapshot against the cache, so a
 *    reconnect never flushes what the data path already has. A reset covers
 *    a scope (the networks and hosts, or one VNI's FDB and flood list: the
 *    agent follows only the VNIs it has ports in) and comes out in steps of a
 *    bounded number of records (`resetSteps`), so the caller can apply a
 *    large table a slice at a time between data-path batches.
 *  - This host is never its own peer: entries placing a MAC at this host and
 *    this host's own VTEP in flood lists are left out (local learning owns
 *    local MACs).
 *  - Order inside one apply(): networks first (so their FDB/flood changes are
 *    accepted), then flood lists and peers, then FDB entries, network
 *    removals last.
 *  - A network's flood list is applied as its members (minus this host), or
 *    empty when the network's flood mode is `none`; its peers are the flood
 *    members (the data path also accepts every VTEP an FDB entry names as an
 *    outer source: an FDB change never recomputes a list).
 *  - While etcd is away nothing here changes: the data path keeps forwarding
 *    on what it has.
 */
import {
  decodeFdbEntry,
  decodeFloodList,
  decodeIpfixRecord,
  decodeSflowRecord,
  decodeHost,
  decodeMirror,
  decodeNetwork,
  decodePortQos,
  fdbDigestMember,
  parseMac,
  RecordError,
  SetDigest,
  type TableDigest,
  type FdbEntryRecord,
  type FloodListRecord,
  type FlowExporterName,
  type HostRecord,
  type IpfixRecord,
  type SflowRecord,
  type KeyLayout,
  type MirrorRecord,
  type NetworkRecord,
  type PortQosRecord,
} from '@dvs/wire';
import type { TableChange, Vtep } from '../datapath/control-surface.js';

export interface TableKv {
  key: string;
  value: Buffer;
  modRevision: number;
}

export interface TableStateSelf {
  host: string;
  vtep: Vtep;
}

type Section = 'network' | 'fdb' | 'flood' | 'host' | 'mirror' | 'qos' | 'flow-export';

/** What a reset covers: everything, the networks and hosts, one VNI's FDB entries, or its flood list. */
export type TableScope =
  { kind: 'all' } | { kind: 'base' } | { kind: 'fdb'; vni: number } | { kind: 'flood'; vni: number };

/** Records decoded and diffed per reset step. */
export const RESET_STEP = 16;

interface Cached<T> {
  record: T;
  modRevision: number;
}

function vtepId(v: Vtep): string {
  return `${v.address}:${v.port}`;
}

function sameVteps(a: readonly Vtep[], b: readonly Vtep[]): boolean {
  return a.length === b.length && a.every((v, i) => vtepId(v) === vtepId(b[i]!));
}

export class TableState {
  readonly networks = new Map<number, Cached<NetworkRecord>>();
  /** `${vni}/${mac}` */
  readonly fdb = new Map<string, Cached<FdbEntryRecord>>();
  readonly flood = new Map<number, Cached<FloodListRecord>>();
  readonly hosts = new Map<string, Cached<HostRecord>>();
  /** Port mirrors by name (etcd-sync/mirror-config.ts turns them into this host's share). */
  readonly mirrors = new Map<string, Cached<MirrorRecord>>();
  /** Port QoS by `host/port` (every host's: the agent picks its own). */
  readonly portQos = new Map<string, Cached<PortQosRecord>>();
  /** The cluster's sFlow and IPFIX settings (`flow-export/sflow|ipfix`). */
  readonly flowExport = new Map<FlowExporterName, Cached<SflowRecord | IpfixRecord>>();
  /** Keys whose value did not decode, with why (reported once each by the caller). */
  readonly invalid = new Map<string, RecordError>();
  /** Per VNI: what the data path was last given as flood list and peers. */
  private readonly appliedFlood = new Map<number, Vtep[]>();
  private readonly appliedPeers = new Map<number, Vtep[]>();
  /** FDB entries handed to the data path as fdb:set, by `${vni}/${mac}`, by VNI. */
  private readonly appliedFdb = new Map<number, Set<string>>();
  /** Per VNI: the digest of the FDB entries handed to the data path, and the member each added. */
  private readonly handedDigest = new Map<number, SetDigest>();
  private readonly handedMember = new Map<string, string>();
  /** Cached FDB entries (`${vni}/${mac}`) by VNI. */
  private readonly fdbByVni = new Map<number, Set<string>>();
  revision = 0;
  loaded = false;

  constructor(
    private readonly keys: KeyLayout,
    private readonly self: TableStateSelf,
  ) {}

  /** The FDB entry of a MAC (canonical text) in a VNI, if the controller published one. */
  entry(vni: number, mac: string): FdbEntryRecord | undefined {
    return this.fdb.get(`${vni}/${mac}`)?.record;
  }

  /** Ours when it names this host, or this host's underlay address (whatever the encap's port). */
  private isSelf(host: string | null, vtep: Vtep): boolean {
    return host === this.self.host || vtep.address === this.self.vtep.address;
  }

  // ---- applying etcd events ------------------------------------------------

  /** One put; returns the data path changes it implies. */
  put(kv: TableKv): TableChange[] {
    const touched = this.store(kv);
    this.revision = Math.max(this.revision, kv.modRevision);
    return touched === null ? [] : this.changesFor([touched]);
  }

  delete(key: string, revision: number): TableChange[] {
    const touched = this.remove(key);
    this.revision = Math.max(this.revision, revision);
    return touched === null ? [] : this.changesFor([touched]);
  }

  /** A whole snapshot (first load or resync) of `scope`: replaces that part of the cache, returns the difference. */
  reset(kvs: readonly TableKv[], revision: number, scope: TableScope = { kind: 'all' }): TableChange[] {
    const out: TableChange[] = [];
    for (const step of this.resetSteps(kvs, revision, scope)) out.push(...step);
    return out;
  }

  /**
   * `reset` a step at a time: each step decodes and diffs at most RESET_STEP
   * records and yields the data path changes they imply (networks before
   * what depends on them, as in one apply). The cache is consistent after
   * every step; `loaded` is set after the last.
   */
  *resetSteps(
    kvs: readonly TableKv[],
    revision: number,
    scope: TableScope = { kind: 'all' },
  ): Generator<TableChange[]> {
    const seen = new Set<string>();
    for (let i = 0; i < kvs.length; i += RESET_STEP) {
      const touched: Touched[] = [];
      for (const kv of kvs.slice(i, i + RESET_STEP)) {
        seen.add(kv.key);
        const t = this.store(kv);
        if (t !== null) touched.push(t);
      }
      yield this.changesFor(touched);
    }
    // What the snapshot no longer has, found a step at a time too (a VNI of 10,000 entries).
    const gone: string[] = [];
    let scanned = 0;
    for (const key of this.cachedKeys(scope)) {
      if (!seen.has(key)) gone.push(key);
      if (++scanned % RESET_STEP === 0) yield [];
    }
    yield* this.removeSteps(gone);
    this.revision = Math.max(this.revision, revision);
    this.loaded = true;
  }

  /** Forgets everything in `scope` (the agent stopped following a VNI), a step at a time. */
  *dropSteps(scope: TableScope): Generator<TableChange[]> {
    yield* this.removeSteps([...this.cachedKeys(scope)]);
  }

  private *removeSteps(keys: readonly string[]): Generator<TableChange[]> {
    for (let i = 0; i < keys.length; i += RESET_STEP) {
      const touched: Touched[] = [];
      for (const key of keys.slice(i, i + RESET_STEP)) {
        const t = this.remove(key);
        if (t !== null) touched.push(t);
      }
      yield this.changesFor(touched);
    }
  }

  private *cachedKeys(scope: TableScope): Iterable<string> {
    if (scope.kind === 'all' || scope.kind === 'base') {
      for (const vni of this.networks.keys()) yield this.keys.network(vni);
      for (const host of this.hosts.keys()) yield this.keys.host(host);
      for (const name of this.mirrors.keys()) yield this.keys.mirror(name);
      for (const { record } of this.portQos.values()) yield this.keys.portQos(record.host, record.port);
      for (const exporter of this.flowExport.keys()) yield this.keys.flowExport(exporter);
    }
    if (scope.kind === 'all') {
      for (const { record } of this.fdb.values()) yield this.keys.fdb(record.vni, record.mac);
      for (const vni of this.flood.keys()) yield this.keys.flood(vni);
    }
    if (scope.kind === 'fdb') {
      for (const id of this.fdbByVni.get(scope.vni) ?? []) {
        const record = this.fdb.get(id)?.record;
        if (record !== undefined) yield this.keys.fdb(record.vni, record.mac);
      }
    }
    if (scope.kind === 'flood' && this.flood.has(scope.vni)) yield this.keys.flood(scope.vni);
    for (const key of this.invalid.keys()) if (inScope(this.keys, key, scope)) yield key;
  }

  /** Caches one put. Returns what it touched (null: foreign key or unchanged). */
  private store(kv: TableKv): Touched | null {
    const parsed = this.keys.parse(kv.key);
    if (parsed === null) return null;
    const fail = (r: RecordError): Touched | null => {
      this.invalid.set(kv.key, r);
      return this.remove(kv.key, true);
    };
    switch (parsed.kind) {
      case 'network': {
        if (this.networks.get(parsed.vni)?.modRevision === kv.modRevision) return null;
        const r = decodeNetwork(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        const isNew = !this.networks.has(parsed.vni);
        this.networks.set(parsed.vni, { record: r, modRevision: kv.modRevision });
        return { section: 'network', vni: parsed.vni, isNew };
      }
      case 'fdb': {
        const id = `${parsed.vni}/${parsed.mac}`;
        if (this.fdb.get(id)?.modRevision === kv.modRevision) return null;
        const r = decodeFdbEntry(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.fdb.set(id, { record: r, modRevision: kv.modRevision });
        indexAdd(this.fdbByVni, parsed.vni, id);
        return { section: 'fdb', vni: parsed.vni, mac: parsed.mac };
      }
      case 'flood': {
        if (this.flood.get(parsed.vni)?.modRevision === kv.modRevision) return null;
        const r = decodeFloodList(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.flood.set(parsed.vni, { record: r, modRevision: kv.modRevision });
        return { section: 'flood', vni: parsed.vni };
      }
      case 'host': {
        if (this.hosts.get(parsed.host)?.modRevision === kv.modRevision) return null;
        const r = decodeHost(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.hosts.set(parsed.host, { record: r, modRevision: kv.modRevision });
        return { section: 'host' };
      }
      case 'mirror': {
        if (this.mirrors.get(parsed.name)?.modRevision === kv.modRevision) return null;
        const r = decodeMirror(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.mirrors.set(parsed.name, { record: r, modRevision: kv.modRevision });
        return { section: 'mirror' };
      }
      case 'qos': {
        const id = `${parsed.host}/${parsed.port}`;
        if (this.portQos.get(id)?.modRevision === kv.modRevision) return null;
        const r = decodePortQos(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.portQos.set(id, { record: r, modRevision: kv.modRevision });
        return { section: 'qos' };
      }
      case 'flow-export': {
        if (this.flowExport.get(parsed.exporter)?.modRevision === kv.modRevision) return null;
        const r = parsed.exporter === 'sflow' ? decodeSflowRecord(kv.value) : decodeIpfixRecord(kv.value);
        if (r instanceof RecordError) return fail(r);
        this.invalid.delete(kv.key);
        this.flowExport.set(parsed.exporter, { record: r, modRevision: kv.modRevision });
        return { section: 'flow-export' };
      }
      default:
        return null;
    }
  }

  private remove(key: string, keepInvalid = false): Touched | null {
    if (!keepInvalid) this.invalid.delete(key);
    const parsed = this.keys.parse(key);
    if (parsed === null) return null;
    switch (parsed.kind) {
      case 'network':
        return this.networks.delete(parsed.vni) ? { section: 'network', vni: parsed.vni, removed: true } : null;
      case 'fdb': {
        const id = `${parsed.vni}/${parsed.mac}`;
        if (!this.fdb.delete(id)) return null;
        indexRemove(this.fdbByVni, parsed.vni, id);
        return { section: 'fdb', vni: parsed.vni, mac: parsed.mac };
      }
      case 'flood':
        return this.flood.delete(parsed.vni) ? { section: 'flood', vni: parsed.vni } : null;
      case 'host':
        return this.hosts.delete(parsed.host) ? { section: 'host' } : null;
      case 'mirror':
        return this.mirrors.delete(parsed.name) ? { section: 'mirror' } : null;
      case 'qos':
        return this.portQos.delete(`${parsed.host}/${parsed.port}`) ? { section: 'qos' } : null;
      case 'flow-export':
        return this.flowExport.delete(parsed.exporter) ? { section: 'flow-export' } : null;
      default:
        return null;
    }
  }

  // ---- translating to data path changes ------------------------------------

  private changesFor(touched: readonly Touched[]): TableChange[] {
    const networkSets: TableChange[] = [];
    const networkDels: TableChange[] = [];
    const floodVnis = new Set<number>();
    const fdbIds = new Set<string>();
    for (const t of touched) {
      if (t.section === 'network') {
        if (t.removed) {
          networkDels.push({ kind: 'network:del', vni: t.vni! });
          this.forgetVni(t.vni!);
          continue;
        }
        const n = this.networks.get(t.vni!)!.record;
        networkSets.push({
          kind: 'network:set',
          network: {
            vni: n.vni,
            encap: n.encap,
            mtu: n.mtu,
            arpSuppression: n.arpSuppression,
            ...(n.datapath !== undefined ? { datapath: n.datapath } : {}),
            ...(n.flowExport !== undefined ? { flowExport: { ...n.flowExport } } : {}),
          },
        });
        floodVnis.add(t.vni!); // flood mode may have changed
        if (t.isNew) {
          // Entries that arrived before their network was known are replayed now.
          for (const id of this.fdbByVni.get(t.vni!) ?? []) fdbIds.add(id);
        }
      } else if (t.section === 'flood') {
        floodVnis.add(t.vni!);
      } else if (t.section === 'fdb') {
        fdbIds.add(`${t.vni}/${t.mac}`);
      }
    }
    const out: TableChange[] = [...networkSets];
    for (const vni of floodVnis) if (this.networks.has(vni)) out.push(...this.floodChanges(vni));
    for (const id of fdbIds) {
      const change = this.fdbChange(id);
      if (change !== null) out.push(change);
    }
    out.push(...networkDels);
    return out;
  }

  private forgetVni(vni: number): void {
    this.appliedFlood.delete(vni);
    this.appliedPeers.delete(vni);
    for (const id of this.appliedFdb.get(vni) ?? []) this.handedMember.delete(id);
    this.appliedFdb.delete(vni);
    this.handedDigest.delete(vni);
  }

  private handed(vni: number, id: string, member: string | null): void {
    let digest = this.handedDigest.get(vni);
    if (digest === undefined) this.handedDigest.set(vni, (digest = new SetDigest()));
    const old = this.handedMember.get(id);
    if (old !== undefined) digest.remove(old);
    if (member === null) this.handedMember.delete(id);
    else {
      digest.add(member);
      this.handedMember.set(id, member);
    }
  }

  // ---- what the data path was given (for table digests) ---------------------

  /** The digest of the FDB entries handed to the data path for `vni` (the agent's side of `dvs audit`). */
  handedFdbDigest(vni: number): TableDigest {
    return (this.handedDigest.get(vni) ?? new SetDigest()).value;
  }

  /** The FDB entries handed to the data path for `vni`: MAC text → VTEP. */
  handedEntries(vni: number): Map<string, Vtep> {
    const out = new Map<string, Vtep>();
    for (const id of this.appliedFdb.get(vni) ?? []) {
      const r = this.fdb.get(id)?.record;
      if (r !== undefined) out.set(r.mac, { address: r.vtep.address, port: r.vtep.port });
    }
    return out;
  }

  /**
   * The changes that make a data path holding `has` (its control entries)
   * and any flood list hold what this cache handed it for `vni` again.
   */
  repairChanges(vni: number, has: ReadonlyMap<string, Vtep>): TableChange[] {
    if (!this.networks.has(vni)) return [];
    const out: TableChange[] = [];
    const flood = this.appliedFlood.get(vni);
    const peers = this.appliedPeers.get(vni);
    if (flood !== undefined) out.push({ kind: 'flood:set', vni, vteps: flood });
    if (peers !== undefined) out.push({ kind: 'peers:set', vni, vteps: peers });
    const handed = this.handedEntries(vni);
    for (const mac of has.keys()) {
      if (handed.has(mac)) continue;
      const n = parseMac(mac);
      if (n !== null) out.push({ kind: 'fdb:del', vni, mac: n });
    }
    for (const mac of handed.keys()) {
      const change = this.fdbChange(`${vni}/${mac}`);
      const now = has.get(mac);
      if (change !== null && (now === undefined || vtepId(now) !== vtepId((change as { vtep: Vtep }).vtep)))
        out.push(change);
    }
    return out;
  }

  private floodChanges(vni: number): TableChange[] {
    const network = this.networks.get(vni)!.record;
    const members = (this.flood.get(vni)?.record.members ?? [])
      .filter((m) => !this.isSelf(m.host, m))
      .map((m) => ({ address: m.address, port: m.port }));
    const flood = network.floodMode === 'none' ? [] : members;
    const peers = [...new Map<string, Vtep>(members.map((m) => [vtepId(m), m])).values()].sort((a, b) =>
      vtepId(a).localeCompare(vtepId(b)),
    );
    const out: TableChange[] = [];
    const lastFlood = this.appliedFlood.get(vni);
    if (lastFlood === undefined || !sameVteps(lastFlood, flood)) {
      out.push({ kind: 'flood:set', vni, vteps: flood });
      this.appliedFlood.set(vni, flood);
    }
    const lastPeers = this.appliedPeers.get(vni);
    if (lastPeers === undefined || !sameVteps(lastPeers, peers)) {
      out.push({ kind: 'peers:set', vni, vteps: peers });
      this.appliedPeers.set(vni, peers);
    }
    return out;
  }

  private fdbChange(id: string): TableChange | null {
    const slash = id.indexOf('/');
    const vni = Number(id.slice(0, slash));
    const mac = parseMac(id.slice(slash + 1));
    if (mac === null || !this.networks.has(vni)) return null;
    const record = this.fdb.get(id)?.record;
    const applied = this.appliedFdb.get(vni);
    if (record === undefined || this.isSelf(record.host, record.vtep)) {
      // Gone, or local to us: drop the remote location we had handed over.
      if (applied === undefined || !applied.delete(id)) return null;
      if (applied.size === 0) this.appliedFdb.delete(vni);
      this.handed(vni, id, null);
      return { kind: 'fdb:del', vni, mac };
    }
    indexAdd(this.appliedFdb, vni, id);
    this.handed(vni, id, fdbDigestMember(record.mac, record.vtep));
    return {
      kind: 'fdb:set',
      vni,
      mac,
      vtep: { address: record.vtep.address, port: record.vtep.port },
      seq: record.seq,
      ...(record.origin === 'static' ? { static: true } : {}),
      ...(record.ips.length > 0 ? { ips: [...record.ips] } : {}),
    };
  }
}

function indexAdd<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([value]));
  else set.add(value);
}

function indexRemove<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  set?.delete(value);
  if (set?.size === 0) index.delete(key);
}

/** Whether `key` is in `scope`. */
export function inScope(keys: KeyLayout, key: string, scope: TableScope): boolean {
  if (scope.kind === 'all') return true;
  const parsed = keys.parse(key);
  if (parsed === null) return false;
  if (scope.kind === 'base')
    return (
      parsed.kind === 'network' ||
      parsed.kind === 'host' ||
      parsed.kind === 'mirror' ||
      parsed.kind === 'qos' ||
      parsed.kind === 'flow-export'
    );
  return parsed.kind === scope.kind && parsed.vni === scope.vni;
}

interface Touched {
  section: Section;
  vni?: number;
  mac?: string;
  isNew?: boolean;
  removed?: boolean;
}
