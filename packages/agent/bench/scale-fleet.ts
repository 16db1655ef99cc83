/**
 * Simulated agents for the scale benchmark, many in one process: each is the
 * real EtcdSync (registration, reports, per-VNI followers, apply queue) and
 * the real table application of a DataPath that has no port and no socket
 * (a no-op data path: nothing to forward, every table change applied).
 * Host i has one port in VNI `vniOf(i)` and reports `macsPerHost` MACs there.
 */
import { formatMac } from '@dvs/wire';
import { DataPath } from '../src/datapath/data-path.js';
import type { TableChange } from '../src/datapath/control-surface.js';
import { EtcdSync } from '../src/etcd-sync/index.js';

export interface FleetPlan {
  hosts: number;
  macsPerHost: number;
  hostsPerVni: number;
  firstVni: number;
}

export interface SimAgent {
  index: number;
  host: string;
  vni: number;
  vtep: { address: string; port: number };
  dataPath: DataPath;
  sync: EtcdSync;
}

export function vniOf(plan: FleetPlan, index: number): number {
  return plan.firstVni + Math.floor(index / plan.hostsPerVni);
}

export function macOf(index: number, j: number): number {
  return 0x020000000000 + index * 0x10000 + j;
}

export function hostName(index: number): string {
  return `sim-${String(index).padStart(4, '0')}`;
}

export function vtepOf(index: number): { address: string; port: number } {
  const n = index + 1;
  return { address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 4789 };
}

/** A MAC moving to `to` is seen by every agent in its VNI but `to`: resolves with each one's delay (ms). */
export class MoveWatch {
  private readonly pending = new Map<
    string,
    { waiting: Set<string>; startedAt: number; delays: number[]; done: (d: number[]) => void }
  >();

  expect(vni: number, mac: number, to: SimAgent, agents: readonly SimAgent[]): Promise<number[]> {
    const key = `${vni}/${mac}/${to.vtep.address}`;
    const waiting = new Set(agents.filter((a) => a.vni === vni && a !== to).map((a) => a.host));
    return new Promise((done) => this.pending.set(key, { waiting, startedAt: performance.now(), delays: [], done }));
  }

  /** Called with every change an agent applied. */
  applied(agent: SimAgent, changes: readonly TableChange[]): void {
    if (this.pending.size === 0) return;
    for (const c of changes) {
      if (c.kind !== 'fdb:set') continue;
      const key = `${c.vni}/${c.mac}/${c.vtep.address}`;
      const p = this.pending.get(key);
      if (p === undefined || !p.waiting.delete(agent.host)) continue;
      p.delays.push(performance.now() - p.startedAt);
      if (p.waiting.size === 0) {
        this.pending.delete(key);
        p.done(p.delays);
      }
    }
  }
}

export interface FleetConnection {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Starts agents `first`..`first + count - 1` of the plan (default: all). */
export function startFleet(
  plan: FleetPlan,
  connection: FleetConnection,
  watch: MoveWatch,
  range: { first: number; count: number } = { first: 0, count: plan.hosts },
): SimAgent[] {
  const agents: SimAgent[] = [];
  for (let i = range.first; i < range.first + range.count; i++) {
    const dataPath = new DataPath({ batchSize: 1, copyBatchSize: 1, slotSize: 256, agingTimer: false });
    const host = hostName(i);
    const vtep = vtepOf(i);
    const sync = new EtcdSync({
      host,
      vtep,
      encaps: ['vxlan'],
      agentVersion: 'scale-bench',
      etcd: { ...connection, callTimeoutMs: 5000 },
      leaseTtlSeconds: 30,
      surface: dataPath,
      events: dataPath,
    });
    const agent: SimAgent = { index: i, host, vni: vniOf(plan, i), vtep, dataPath, sync };
    sync.on('tables:applied', (changes) => watch.applied(agent, changes));
    agents.push(agent);
  }
  for (const a of agents) {
    a.sync.start();
    a.sync.publishPorts([
      { port: 'tap0', mode: 'access', bindings: [{ vni: a.vni, vlan: null }], state: 'up', macCount: plan.macsPerHost },
    ]);
    for (let j = 0; j < plan.macsPerHost; j++) a.sync.reportLocal(a.vni, macOf(a.index, j), 'tap0', 0);
  }
  return agents;
}

/** True when the agent holds its VNI's whole FDB (every host's MACs) and flood list (every host). */
export function complete(plan: FleetPlan, agent: SimAgent): boolean {
  const inVni = Math.min(plan.hostsPerVni, plan.hosts - (agent.vni - plan.firstVni) * plan.hostsPerVni);
  const tables = agent.sync.tables;
  const flood = tables.flood.get(agent.vni)?.record.members.length ?? 0;
  let fdb = 0;
  for (const key of tables.fdb.keys()) if (key.startsWith(`${agent.vni}/`)) fdb++;
  return fdb === inVni * plan.macsPerHost && flood === inVni && agent.sync.status().apply.pending === 0;
}

export function macText(index: number, j: number): string {
  return formatMac(macOf(index, j));
}
