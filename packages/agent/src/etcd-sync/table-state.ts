/**
 * The agent's cached copy of the tables it follows — networks, the
 * authoritative FDB, flood lists and hosts — and their translation into the
 * data path's TableChange[] (one apply() per etcd watch response or resync).
 *
 * Contracts:
 *  - Incremental: each put/delete yields only the changes it implies; a
 *    resync (`reset`) diffs the new snapshot against the cache, so a
 *    reconnect never flushes what the data path already has.
 *  - This host is never its own peer: entries placing a MAC at this host and
 *    this host's own VTEP in flood lists are left out (local learning owns
 *    local MACs).
 *  - Order inside one apply(): networks first (so their FDB/flood changes are
 *    accepted), then flood lists and peers, then FDB entries, network
 *    removals last.
 *  - A network's flood list is applied as its members (minus this host), or
 *    empty when the network's flood mode is `none`; its peers (accepted outer
 *    sources) are the flood members plus every VTEP its FDB entries point at.
 *  - While etcd is away nothing here changes: the data path keeps forwarding
 *    on what it has.
 */
import {
  decodeFdbEntry,
  decodeFloodList,
  decodeHost,
  decodeNetwork,
  parseMac,
  RecordError,
  type FdbEntryRecord,
  type FloodListRecord,
  type HostRecord,
  type KeyLayout,
  type NetworkRecord,
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

type Section = 'network' | 'fdb' | 'flood' | 'host';

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
  /** Keys whose value did not decode, with why (reported once each by the caller). */
  readonly invalid = new Map<string, RecordError>();
  /** Per VNI: what the data path was last given as flood list and peers. */
  private readonly appliedFlood = new Map<number, Vtep[]>();
  private readonly appliedPeers = new Map<number, Vtep[]>();
  /** FDB entries handed to the data path as fdb:set, by `${vni}/${mac}`. */
  private readonly appliedFdb = new Set<string>();
  /** Per VNI: remote VTEPs named by FDB entries, with how many entries name each (peers without a scan). */
  private readonly fdbVteps = new Map<number, Map<string, { vtep: Vtep; count: number }>>();
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

  /** A whole snapshot (first load or resync): replaces the cache, returns the difference. */
  reset(kvs: readonly TableKv[], revision: number): TableChange[] {
    const seen = new Set<string>();
    const touched: Touched[] = [];
    for (const kv of kvs) {
      seen.add(kv.key);
      const t = this.store(kv);
      if (t !== null) touched.push(t);
    }
    for (const key of this.cachedKeys()) {
      if (seen.has(key)) continue;
      const t = this.remove(key);
      if (t !== null) touched.push(t);
    }
    this.revision = revision;
    this.loaded = true;
    return this.changesFor(touched);
  }

  private *cachedKeys(): Iterable<string> {
    for (const vni of this.networks.keys()) yield this.keys.network(vni);
    for (const { record } of this.fdb.values()) yield this.keys.fdb(record.vni, record.mac);
    for (const vni of this.flood.keys()) yield this.keys.flood(vni);
    for (const host of this.hosts.keys()) yield this.keys.host(host);
    yield* this.invalid.keys();
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
        const old = this.fdb.get(id);
        if (old !== undefined) this.countVtep(old.record, -1);
        this.fdb.set(id, { record: r, modRevision: kv.modRevision });
        this.countVtep(r, 1);
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
        const old = this.fdb.get(id);
        if (old === undefined) return null;
        this.countVtep(old.record, -1);
        this.fdb.delete(id);
        return { section: 'fdb', vni: parsed.vni, mac: parsed.mac };
      }
      case 'flood':
        return this.flood.delete(parsed.vni) ? { section: 'flood', vni: parsed.vni } : null;
      case 'host':
        return this.hosts.delete(parsed.host) ? { section: 'host' } : null;
      default:
        return null;
    }
  }

  private countVtep(entry: FdbEntryRecord, delta: 1 | -1): void {
    if (this.isSelf(entry.host, entry.vtep)) return;
    let perVni = this.fdbVteps.get(entry.vni);
    if (perVni === undefined) this.fdbVteps.set(entry.vni, (perVni = new Map()));
    const id = vtepId(entry.vtep);
    const slot = perVni.get(id);
    const count = (slot?.count ?? 0) + delta;
    if (count <= 0) perVni.delete(id);
    else perVni.set(id, { vtep: { address: entry.vtep.address, port: entry.vtep.port }, count });
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
          network: { vni: n.vni, encap: n.encap, mtu: n.mtu, arpSuppression: n.arpSuppression },
        });
        floodVnis.add(t.vni!); // flood mode may have changed
        if (t.isNew) {
          // Entries that arrived before their network was known are replayed now.
          for (const [id, { record }] of this.fdb) if (record.vni === t.vni) fdbIds.add(id);
        }
      } else if (t.section === 'flood') {
        floodVnis.add(t.vni!);
      } else if (t.section === 'fdb') {
        fdbIds.add(`${t.vni}/${t.mac}`);
        floodVnis.add(t.vni!); // peers include FDB VTEPs
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
    for (const id of [...this.appliedFdb]) if (id.startsWith(`${vni}/`)) this.appliedFdb.delete(id);
  }

  private floodChanges(vni: number): TableChange[] {
    const network = this.networks.get(vni)!.record;
    const members = (this.flood.get(vni)?.record.members ?? [])
      .filter((m) => !this.isSelf(m.host, m))
      .map((m) => ({ address: m.address, port: m.port }));
    const flood = network.floodMode === 'none' ? [] : members;
    const peerMap = new Map<string, Vtep>(members.map((m) => [vtepId(m), m]));
    for (const [id, { vtep }] of this.fdbVteps.get(vni) ?? []) peerMap.set(id, vtep);
    const peers = [...peerMap.values()].sort((a, b) => vtepId(a).localeCompare(vtepId(b)));
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
    if (record === undefined || this.isSelf(record.host, record.vtep)) {
      // Gone, or local to us: drop the remote location we had handed over.
      if (!this.appliedFdb.delete(id)) return null;
      return { kind: 'fdb:del', vni, mac };
    }
    this.appliedFdb.add(id);
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

interface Touched {
  section: Section;
  vni?: number;
  mac?: string;
  isNew?: boolean;
  removed?: boolean;
}
