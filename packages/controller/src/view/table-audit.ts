/**
 * `dvs audit`: does every agent's data path hold what the controller
 * intends? Each agent publishes, per VNI it follows, the digests of its
 * control FDB entries, flood list and accepted sources (`digests/<host>`,
 * @dvs/wire table-digest.ts), kept incrementally as it applies changes. This
 * computes the same digests from the controller's own records, as that host
 * should hold them (entries placing MACs at the host itself left out, a
 * flood list without the host, none in flood mode `none`), and compares.
 *
 * A disagreement in the FDB is named MAC by MAC when the agent listed them
 * (its data path against the tables it received: `diff`); otherwise (the
 * agent's own copy of the tables is off) as the two digests. A divergence
 * counts only once it has lasted `settleMs`: a table change takes a moment to
 * reach every agent and its next digest.
 */
import {
  digestOf,
  fdbDigestMember,
  SetDigest,
  vtepDigestMember,
  type DivergenceView,
  type TableDigest,
  type VniDigest,
  type VtepRecord,
} from '@dvs/wire';
import type { ClusterView } from './cluster-view.js';

/** How long a disagreement must last before it is a divergence (ms). */
export const DEFAULT_AUDIT_SETTLE_MS = 3000;

const vtepText = (v: VtepRecord | null | undefined): string => (v ? `${v.address}:${v.port}` : 'nothing');
const digestText = (d: TableDigest, what: string): string => `${d.count} ${what} (digest ${d.hash})`;

/**
 * One VNI's records indexed once per check, so that each host's intended
 * digests cost only what is its own: the digest of every FDB entry, from
 * which a host's own entries are taken away, and every VTEP with the hosts
 * that name it.
 */
interface VniIndex {
  network: boolean;
  floodNone: boolean;
  fdbAll: SetDigest;
  /** FDB digest members by VTEP address, and by host. */
  byAddress: Map<string, string[]>;
  byHost: Map<string, { member: string; address: string }[]>;
  flood: { member: string; address: string; host: string | null }[];
  /** Every VTEP of the VNI (FDB entries and flood members) with the hosts that name it (null: external). */
  vteps: Map<string, { address: string; hosts: Set<string | null> }>;
}

function indexVni(view: ClusterView, vni: number): VniIndex {
  const index: VniIndex = {
    network: view.networks.has(vni),
    floodNone: view.networks.get(vni)?.record.floodMode === 'none',
    fdbAll: new SetDigest(),
    byAddress: new Map(),
    byHost: new Map(),
    flood: [],
    vteps: new Map(),
  };
  const vtep = (v: VtepRecord, host: string | null): void => {
    const key = vtepDigestMember(v);
    const known = index.vteps.get(key);
    if (known === undefined) index.vteps.set(key, { address: v.address, hosts: new Set([host]) });
    else known.hosts.add(host);
  };
  for (const id of view.fdbByVni.get(vni) ?? []) {
    const e = view.fdb.get(id)?.record;
    if (e === undefined) continue;
    const member = fdbDigestMember(e.mac, e.vtep);
    index.fdbAll.add(member);
    const atAddress = index.byAddress.get(e.vtep.address) ?? [];
    atAddress.push(member);
    index.byAddress.set(e.vtep.address, atAddress);
    if (e.host !== null) {
      const list = index.byHost.get(e.host) ?? [];
      list.push({ member, address: e.vtep.address });
      index.byHost.set(e.host, list);
    }
    vtep(e.vtep, e.host);
  }
  for (const m of view.flood.get(vni)?.record.members ?? []) {
    index.flood.push({ member: vtepDigestMember(m), address: m.address, host: m.host });
    vtep(m, m.host);
  }
  return index;
}

/** The digests `host` should publish for a VNI, from the VNI's index. */
function intendedFrom(index: VniIndex, vni: number, host: string, self: string | undefined): VniDigest {
  if (!index.network) return { vni, fdb: digestOf([]), flood: digestOf([]), sources: digestOf([]) };
  const isSelf = (h: string | null, address: string): boolean => h === host || address === self;
  const fdb = index.fdbAll.clone();
  if (self !== undefined) for (const m of index.byAddress.get(self) ?? []) fdb.remove(m);
  for (const e of index.byHost.get(host) ?? []) if (e.address !== self) fdb.remove(e.member);
  const flood = new Set(index.flood.filter((m) => !isSelf(m.host, m.address)).map((m) => m.member));
  const sources: string[] = [];
  for (const [member, v] of index.vteps) {
    if (v.address === self) continue;
    if ([...v.hosts].some((h) => h !== host)) sources.push(member);
  }
  return { vni, fdb: fdb.value, flood: digestOf(index.floodNone ? [] : flood), sources: digestOf(sources) };
}

/** The digests `host` should publish for `vni`, from the controller's records. */
export function intendedDigest(view: ClusterView, host: string, vni: number): VniDigest {
  return intendedFrom(indexVni(view, vni), vni, host, selfAddress(view, host));
}

function selfAddress(view: ClusterView, host: string): string | undefined {
  return (view.hosts.get(host) ?? view.stale.get(host))?.record.vtep.address;
}

/** Every disagreement between the agents' digests and the controller's records, now. */
export function compareDigests(view: ClusterView): DivergenceView[] {
  const out: DivergenceView[] = [];
  const indexes = new Map<number, VniIndex>();
  for (const [host, { record }] of view.digests) {
    const self = selfAddress(view, host);
    for (const agent of record.vnis) {
      let index = indexes.get(agent.vni);
      if (index === undefined) indexes.set(agent.vni, (index = indexVni(view, agent.vni)));
      const intended = intendedFrom(index, agent.vni, host, self);
      if (agent.fdb.hash !== intended.fdb.hash) {
        const named = record.diff.filter((d) => d.vni === agent.vni);
        for (const d of named) {
          const entry = view.fdb.get(`${d.vni}/${d.mac}`)?.record;
          const intends = entry === undefined || entry.host === host || entry.vtep.address === self ? null : entry.vtep;
          if (vtepText(d.has) === vtepText(intends)) continue;
          out.push({
            host,
            vni: d.vni,
            table: 'fdb',
            mac: d.mac,
            agentHas: vtepText(d.has),
            intends: vtepText(intends),
          });
        }
        if (named.length === 0) {
          out.push({
            host,
            vni: agent.vni,
            table: 'fdb',
            mac: null,
            agentHas: digestText(agent.fdb, 'entries'),
            intends: digestText(intended.fdb, 'entries'),
          });
        }
      }
      for (const table of ['flood', 'sources'] as const) {
        if (agent[table].hash === intended[table].hash) continue;
        out.push({
          host,
          vni: agent.vni,
          table,
          mac: null,
          agentHas: digestText(agent[table], 'VTEPs'),
          intends: digestText(intended[table], 'VTEPs'),
        });
      }
    }
  }
  return out;
}

/** Keeps when each disagreement was first seen; reports those that lasted. */
export class TableAuditor {
  private readonly firstSeen = new Map<string, number>();
  private last: DivergenceView[] = [];

  constructor(
    private readonly view: ClusterView,
    readonly settleMs: number = DEFAULT_AUDIT_SETTLE_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Compares now; returns the divergences that have lasted settleMs. */
  check(): DivergenceView[] {
    const now = this.clock();
    const seen = new Set<string>();
    const lasting: DivergenceView[] = [];
    for (const d of compareDigests(this.view)) {
      const key = `${d.host}|${d.vni}|${d.table}|${d.mac ?? '*'}`;
      seen.add(key);
      const first = this.firstSeen.get(key) ?? now;
      this.firstSeen.set(key, first);
      if (now - first >= this.settleMs) lasting.push({ ...d, since: first });
    }
    for (const key of [...this.firstSeen.keys()]) if (!seen.has(key)) this.firstSeen.delete(key);
    this.last = lasting;
    return lasting;
  }

  /** The result of the last check. */
  get divergences(): readonly DivergenceView[] {
    return this.last;
  }

  /** Hosts that publish digests. */
  get checkedHosts(): number {
    return this.view.digests.size;
  }
}
