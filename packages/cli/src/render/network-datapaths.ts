/**
 * `dvs networks show`: for each host of a network, the datapath provider
 * that serves it there and why. A host's agent publishes its VXLAN owner in
 * its host record; with the network's encap and datapath the one rule
 * (@dvs/wire servedBy, which the agent itself applies) says the rest.
 */
import {
  flowExportText,
  networkFlowExport,
  servedBy,
  type FloodListView,
  type HostView,
  type NetworkFlowExport,
  type NetworkView,
  type VxlanOwner,
} from '@dvs/wire';
import { renderTable } from './table.js';

/** One host of a network: which provider serves the network there, and why. */
export interface NetworkDatapathRow {
  host: string;
  state: HostView['state'];
  provider: 'kernel' | 'userspace';
  reason: string;
  /** The network asked for the provider this host cannot give it (the reason says the fix). */
  mismatch: boolean;
  /** What this host exports of the network's traffic: the network's choice, nothing where the kernel serves it. */
  flowExport: NetworkFlowExport;
}

/** The kernel provider exports no flows (no sFlow sampling, no IPFIX cache). */
const NOT_EXPORTED: NetworkFlowExport = { sflow: false, ipfix: false };

/** An agent from before host record 1.3 says nothing: it only had the userspace pipeline. */
const OLD_AGENT: VxlanOwner = { provider: 'userspace', reason: 'the agent predates datapath providers: userspace' };

/** The hosts with a port in the network or in its flood list, each with the provider that serves it there. */
export function networkDatapaths(
  network: NetworkView,
  flood: FloodListView | null,
  hosts: readonly HostView[],
): NetworkDatapathRow[] {
  const members = new Set(flood?.members.flatMap((m) => (m.host === null ? [] : [m.host])) ?? []);
  // No name: the reason reads as the agent's own (networks/show on the host), which knows the VNI only.
  const input = { vni: network.vni, encap: network.encap, datapath: network.datapath ?? 'auto' };
  return hosts
    .filter((h) => members.has(h.host) || h.ports.some((p) => p.bindings.some((b) => b.vni === network.vni)))
    .map((h) => {
      const served = servedBy(input, h.datapath ?? OLD_AGENT);
      const flowExport = served.provider === 'kernel' ? NOT_EXPORTED : { ...networkFlowExport(network) };
      return { host: h.host, state: h.state, ...served, flowExport };
    })
    .sort((a, b) => a.host.localeCompare(b.host));
}

export function renderNetworkDatapaths(
  network: NetworkView,
  rows: readonly NetworkDatapathRow[],
  color: boolean,
): string {
  const head = `datapath: ${network.datapath ?? 'auto'} (asked); served by, on each host:`;
  if (rows.length === 0) return `${head} no host has a port in this VNI yet`;
  return [
    head,
    renderTable(
      [
        { header: '  HOST', value: (r) => `  ${r.host}${r.state === 'up' ? '' : ` (${r.state})`}` },
        { header: 'PROVIDER', value: (r) => (r.mismatch ? `${r.provider} (!)` : r.provider) },
        {
          header: 'FLOW-EXPORT',
          value: (r) => flowExportText(r.flowExport) + (r.provider === 'kernel' ? ' (kernel: no flow export)' : ''),
        },
        { header: 'WHY', value: (r) => r.reason },
      ],
      rows,
      color,
    ),
  ].join('\n');
}
