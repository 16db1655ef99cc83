/** `dvs hosts`: one row per host the controller knows, down ones included. */
import type { HostView } from '@dvs/wire';
import { formatSince, formatVtep, stateTone } from './format.js';
import { renderTable } from './table.js';

export function renderHosts(hosts: readonly HostView[], now: number, color: boolean): string {
  if (hosts.length === 0) return 'no hosts registered (is dvs-agent running and pointed at the same etcd?)';
  return renderTable(
    [
      { header: 'HOST', value: (h) => h.host },
      { header: 'STATE', value: (h) => h.state, tone: (h) => stateTone(h.state) },
      { header: 'SINCE', value: (h) => formatSince(h.since, now) },
      { header: 'VTEP', value: (h) => formatVtep(h.vtep) },
      { header: 'ENCAPS', value: (h) => h.encaps.join(',') },
      { header: 'PORTS', value: (h) => String(h.ports.length), align: 'right' },
      { header: 'MACS', value: (h) => String(h.macs), align: 'right' },
      { header: 'VERSION', value: (h) => h.agentVersion },
      {
        header: 'LABELS',
        value: (h) =>
          Object.entries(h.labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '-',
      },
    ],
    hosts,
    color,
  );
}
