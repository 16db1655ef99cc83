/**
 * Where each part of the system places a VM's MAC, expressed as the lab host
 * that holds it: an agent's FDB (`fdb/show`), a kernel host's bridge FDB, and
 * the controller's authoritative table. Used to time convergence after a
 * migration and to catch flaps back to the old host.
 */
import type { Lab } from './lab.js';
import type { HostState } from './lab-state.js';
import { kernelFdb } from './kernel-host.js';
import { labControllerClient } from './api-credentials.js';

/** A host name, or 'absent' when the observer has no entry for the MAC. */
export type MacLocation = string;
export const ABSENT: MacLocation = 'absent';

export interface MacObserver {
  name: string;
  kind: 'agent' | 'kernel' | 'controller';
  locate(): Promise<MacLocation>;
}

interface AgentFdbEntry {
  vni?: number;
  mac?: string | number;
  kind?: string;
  location?: string;
}

function macText(mac: string | number | undefined): string {
  if (typeof mac === 'number') {
    return mac
      .toString(16)
      .padStart(12, '0')
      .replace(/(..)(?!$)/g, '$1:');
  }
  return (mac ?? '').toLowerCase().replace(/-/g, ':');
}

/** Entries of an agent `fdb/show` answer (an array, or an object holding one under `entries`/`fdb`). */
export function agentFdbEntries(data: unknown): AgentFdbEntry[] {
  if (Array.isArray(data)) return data as AgentFdbEntry[];
  if (data && typeof data === 'object') {
    const o = data as { entries?: unknown; fdb?: unknown };
    if (Array.isArray(o.entries)) return o.entries as AgentFdbEntry[];
    if (Array.isArray(o.fdb)) return o.fdb as AgentFdbEntry[];
  }
  return [];
}

function hostOfAddress(lab: Lab, address: string): string {
  const bare = address.replace(/:\d+$/, '');
  return lab.state.hosts.find((h) => h.underlayAddress === bare)?.name ?? `?${address}`;
}

export function agentObserver(lab: Lab, host: HostState, vni: number, mac: string): MacObserver {
  return {
    name: host.name,
    kind: 'agent',
    locate: async () => {
      const { data } = await lab.admin(host.name).call('fdb/show', [String(vni)], { timeoutMs: 2000 });
      const entry = agentFdbEntries(data).find((e) => macText(e.mac) === mac && (e.vni === undefined || e.vni === vni));
      if (!entry) return ABSENT;
      if (entry.kind === 'port') return host.name;
      return hostOfAddress(lab, String(entry.location ?? ''));
    },
  };
}

export function kernelObserver(lab: Lab, host: HostState, vni: number, mac: string): MacObserver {
  return {
    name: host.name,
    kind: 'kernel',
    locate: async () => {
      const where = (await kernelFdb(lab.id, host, vni)).get(mac);
      if (where === undefined) return ABSENT;
      return where === 'local' ? host.name : hostOfAddress(lab, where);
    },
  };
}

export function controllerObserver(lab: Lab, vni: number, mac: string): MacObserver | null {
  const socketPath = lab.state.controller?.socketPath;
  // Without agents feeding etcd the controller's table says nothing about this MAC.
  if (!socketPath || !lab.state.agentsUseEtcd) return null;
  const client = labControllerClient(lab.state);
  return {
    name: 'controller',
    kind: 'controller',
    locate: async () => {
      const entry = (await client.fdb({ vni, mac })).find((e) => e.mac.toLowerCase() === mac);
      if (!entry) return ABSENT;
      return entry.host ?? hostOfAddress(lab, entry.vtep.address);
    },
  };
}

/** Every observer of a MAC in the lab: all agents, kernel hosts in the VNI, and the controller. */
export function macObservers(lab: Lab, vni: number, mac: string): MacObserver[] {
  const network = lab.state.networks.find((n) => n.vni === vni);
  const out: MacObserver[] = [];
  for (const h of lab.state.hosts) {
    if (h.kind === 'dvs') out.push(agentObserver(lab, h, vni, mac));
    else if (network?.encap === 'vxlan') out.push(kernelObserver(lab, h, vni, mac));
  }
  const c = controllerObserver(lab, vni, mac);
  if (c) out.push(c);
  return out;
}
