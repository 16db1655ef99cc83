/**
 * `dvs tunnels` and `dvs agent tunnels`: one row per (host, peer) tunnel with
 * state, RTT, loss, traffic and the reason of its last change. Both read the
 * status/<host> record shape (wire TunnelStatusRecord).
 */
import type { PeerTunnelStatus, TunnelStatusRecord } from '@dvs/wire';
import { formatCount, formatMs, formatPercent, formatSince, formatVtep, stateTone } from './format.js';
import { renderTable } from './table.js';

export interface TunnelRow extends PeerTunnelStatus {
  /** The host whose probes these are. */
  from: string;
  /** Extra words on the reason (agent tunnels/show only). */
  detail?: string | null;
}

/**
 * Flattens status records into rows. A peer the agent could not name (it
 * knows VTEPs, not always hosts) gets the host the controller has at that
 * VTEP, when `hosts` is given; external VTEPs stay null.
 */
export function tunnelRows(
  records: readonly TunnelStatusRecord[],
  hosts: readonly { host: string; vtep: { address: string; port: number } }[] = [],
): TunnelRow[] {
  const byVtep = new Map(hosts.map((h) => [formatVtep(h.vtep), h.host]));
  return records.flatMap((r) =>
    r.peers.map((p) => ({
      ...p,
      host: p.host ?? (p.state === 'unmonitored' ? null : (byVtep.get(formatVtep(p.vtep)) ?? null)),
      from: r.host,
    })),
  );
}

/** Tunnels a status view counts as problems: down ones (never unmonitored). */
export function downTunnels(rows: readonly TunnelRow[]): TunnelRow[] {
  return rows.filter((r) => r.state === 'down');
}

/** Down first, then init, then by host and peer: the rows an operator needs are on top. */
export function sortTunnelRows(rows: readonly TunnelRow[]): TunnelRow[] {
  const rank: Record<string, number> = { down: 0, init: 1, up: 2, unmonitored: 3 };
  return [...rows].sort(
    (a, b) =>
      (rank[a.state] ?? 9) - (rank[b.state] ?? 9) ||
      a.from.localeCompare(b.from) ||
      formatVtep(a.vtep).localeCompare(formatVtep(b.vtep)),
  );
}

export function renderTunnels(rows: readonly TunnelRow[], now: number, color: boolean): string {
  if (rows.length === 0) return 'no tunnels reported (agents publish status/<host> once they have peers)';
  const table = renderTable(
    [
      { header: 'HOST', value: (r) => r.from },
      { header: 'PEER', value: (r) => formatVtep(r.vtep) },
      { header: 'PEER HOST', value: (r) => r.host ?? (r.state === 'unmonitored' ? '(external)' : '-') },
      { header: 'ENCAP', value: (r) => r.encap },
      { header: 'STATE', value: (r) => r.state, tone: (r) => stateTone(r.state) },
      {
        header: 'RTT ms',
        value: (r) => (r.rtt ? `${formatMs(r.rtt.avgMs)}/${formatMs(r.rtt.p99Ms)}` : '-'),
        align: 'right',
      },
      { header: 'LOSS', value: (r) => (r.state === 'unmonitored' ? '-' : formatPercent(r.lossPct)), align: 'right' },
      { header: 'RX', value: (r) => formatCount(r.rxPackets), align: 'right' },
      { header: 'TX', value: (r) => formatCount(r.txPackets), align: 'right' },
      { header: 'SINCE', value: (r) => formatSince(r.lastChange, now) },
      { header: 'REASON', value: (r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason) },
    ],
    sortTunnelRows(rows),
    color,
  );
  const down = downTunnels(rows).length;
  const up = rows.filter((r) => r.state === 'up').length;
  return `${table}\n\n${rows.length} tunnel(s): ${up} up, ${down} down (RTT avg/p99 over the probe window)`;
}
