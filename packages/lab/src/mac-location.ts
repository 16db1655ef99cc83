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
      const entry = data.find((e) => e.mac === mac && e.vni === vni);
      if (!entry) return ABSENT;
      if (entry.kind === 'port') return host.name;
      return hostOfAddress(lab, entry.location);
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
