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

/** The digests `host` should publish for `vni`, from the controller's records. */
export function intendedDigest(view: ClusterView, host: string, vni: number): VniDigest {
  const self = (view.hosts.get(host) ?? view.stale.get(host))?.record.vtep.address;
  const isSelf = (h: string | null, v: VtepRecord): boolean => h === host || v.address === self;
  const network = view.networks.get(vni)?.record;
  const fdb: string[] = [];
  const sources = new Set<string>();
  for (const id of view.fdbByVni.get(vni) ?? []) {
    const e = view.fdb.get(id)?.record;
    if (e === undefined || isSelf(e.host, e.vtep)) continue;
    fdb.push(fdbDigestMember(e.mac, e.vtep));
    sources.add(vtepDigestMember(e.vtep));
  }
  const members = new Set<string>();
  for (const m of view.flood.get(vni)?.record.members ?? []) {
    if (isSelf(m.host, m)) continue;
    members.add(vtepDigestMember(m));
    sources.add(vtepDigestMember(m));
  }
  if (network === undefined) return { vni, fdb: digestOf([]), flood: digestOf([]), sources: digestOf([]) };
  return {
    vni,
    fdb: digestOf(fdb),
    flood: digestOf(network.floodMode === 'none' ? [] : members),
    sources: digestOf(sources),
  };
}

/** Every disagreement between the agents' digests and the controller's records, now. */
export function compareDigests(view: ClusterView): DivergenceView[] {
  const out: DivergenceView[] = [];
  for (const [host, { record }] of view.digests) {
    for (const agent of record.vnis) {
      const intended = intendedDigest(view, host, agent.vni);
      if (agent.fdb.hash !== intended.fdb.hash) {
        const named = record.diff.filter((d) => d.vni === agent.vni);
        for (const d of named) {
          const entry = view.fdb.get(`${d.vni}/${d.mac}`)?.record;
          const self = view.hosts.get(host)?.record.vtep.address;
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
