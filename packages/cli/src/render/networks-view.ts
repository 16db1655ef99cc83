/** `dvs networks list|show`. */
import { flowExportText, networkFlowExport, type FloodListView, type NetworkView } from '@dvs/wire';
import { formatVtep } from './format.js';
import { renderFields, renderTable } from './table.js';

export function renderNetworkList(networks: readonly NetworkView[], color: boolean): string {
  if (networks.length === 0) return 'no networks (create one: dvs networks create --vni 100 --name blue)';
  return renderTable(
    [
      { header: 'VNI', value: (n) => String(n.vni), align: 'right' },
      { header: 'NAME', value: (n) => n.name },
      { header: 'ENCAP', value: (n) => n.encap },
      { header: 'MTU', value: (n) => String(n.mtu), align: 'right' },
      { header: 'FLOOD', value: (n) => n.floodMode },
      { header: 'ARP-SUPPRESS', value: (n) => (n.arpSuppression ? 'yes' : 'no') },
      { header: 'DATAPATH', value: (n) => n.datapath ?? 'auto' },
      { header: 'FLOW-EXPORT', value: (n) => flowExportText(networkFlowExport(n)) },
      { header: 'EXTERNAL VTEPS', value: (n) => n.externalVteps.map(formatVtep).join(',') || '-' },
      { header: 'MEMBERS', value: (n) => membersText(n) },
    ],
    networks,
    color,
  );
}

/** Who may join: `any host`, or the allowed hosts and labels. */
function membersText(n: NetworkView): string {
  const hosts = n.allowedHosts ?? [];
  const labels = n.allowedLabels ?? [];
  if (hosts.length === 0 && labels.length === 0) return 'any host';
  return [...hosts, ...labels.map((l) => `label ${l}`)].join(',');
}

export function renderNetwork(network: NetworkView, flood: FloodListView | null, color: boolean): string {
  const out = [
    renderFields([
      ['vni', String(network.vni)],
      ['name', network.name],
      ['encap', network.encap],
      ['mtu', String(network.mtu)],
      ['flood mode', network.floodMode],
      ['arp suppression', network.arpSuppression ? 'yes' : 'no'],
      ['flow export', flowExportText(networkFlowExport(network))],
      ['members', membersText(network)],
      ['description', network.description || '-'],
      ['created', new Date(network.createdAt).toISOString()],
      ['updated', new Date(network.updatedAt).toISOString()],
    ]),
    '',
  ];
  if (network.externalVteps.length === 0) out.push('external VTEPs: none');
  else {
    out.push('external VTEPs:');
    out.push(
      renderTable(
        [
          { header: '  VTEP', value: (v) => `  ${formatVtep(v)}` },
          { header: 'DESCRIPTION', value: (v) => v.description || '-' },
        ],
        network.externalVteps,
        color,
      ),
    );
  }
  out.push('');
  if (flood === null || flood.members.length === 0) out.push('flood list: empty (no host has a port in this VNI yet)');
  else {
    out.push('flood list:');
    out.push(
      renderTable(
        [
          { header: '  VTEP', value: (m) => `  ${formatVtep(m)}` },
          { header: 'HOST', value: (m) => m.host ?? '(external)' },
        ],
        flood.members,
        color,
      ),
    );
  }
  return out.join('\n');
}
