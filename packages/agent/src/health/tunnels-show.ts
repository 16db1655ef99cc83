/**
 * The `tunnels/show [peer-address]` admin command: text for people, data (a
 * stable JSON shape) for `dvs agent tunnels --json`. Peer rows have the shape
 * of wire's PeerTunnelStatus (as in `status/<host>`) plus probe details.
 */
import type { TunnelShowRow, TunnelsShowData } from '@dvs/wire';
import type { HealthOptions } from './health-options.js';
import type { PeerCountersLookup } from './tunnel-status-record.js';
import { peerTunnelStatus } from './tunnel-status-record.js';
import type { TunnelSnapshot } from './tunnel-session.js';

export type { TunnelShowRow, TunnelsShowData };

export const TUNNELS_SHOW_USAGE = 'tunnels/show [peer-address]';

export interface TunnelsShowSource {
  host: string;
  session: number;
  options: HealthOptions;
  snapshots(): TunnelSnapshot[];
}

export class TunnelsShowArgumentError extends Error {
  override readonly name = 'TunnelsShowArgumentError';
  readonly code = 'DVS_BAD_ARGUMENT';
}

function formatRtt(row: TunnelShowRow): string {
  if (row.rtt === null) return '-';
  return `${row.rtt.lastMs.toFixed(2)}/${row.rtt.avgMs.toFixed(2)}/${row.rtt.p99Ms.toFixed(2)}`;
}

function alignedTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function tunnelsShow(
  source: TunnelsShowSource,
  args: readonly string[],
  counters?: PeerCountersLookup,
): {
  text: string;
  data: TunnelsShowData;
} {
  if (args.length > 1) throw new TunnelsShowArgumentError(`usage: ${TUNNELS_SHOW_USAGE}`);
  const filter = args[0];
  const peers = source
    .snapshots()
    .filter((s) => filter === undefined || s.peer.address === filter)
    .map((s): TunnelShowRow => ({
      ...peerTunnelStatus(s, counters),
      vni: s.vni,
      detail: s.detail,
      probes: { ...s.probes },
    }));
  if (filter !== undefined && peers.length === 0) {
    throw new TunnelsShowArgumentError(`no tunnel to peer ${filter}: see tunnels/show for the peers`);
  }
  const data: TunnelsShowData = {
    host: source.host,
    session: source.session,
    intervalMs: source.options.intervalMs,
    multiplier: source.options.multiplier,
    upAfter: source.options.upAfter,
    peers,
  };
  const header = ['PEER', 'HOST', 'ENCAP', 'STATE', 'RTT ms last/avg/p99', 'LOSS', 'SINCE', 'REASON'];
  const rows = peers.map((p) => [
    `${p.vtep.address}:${p.vtep.port}`,
    p.host ?? (p.state === 'unmonitored' ? '(external)' : '-'),
    p.encap,
    p.state,
    formatRtt(p),
    p.state === 'unmonitored' ? '-' : `${p.lossPct.toFixed(1)}%`,
    new Date(p.lastChange).toISOString(),
    p.detail ? `${p.reason} (${p.detail})` : p.reason,
  ]);
  const summary =
    `host ${source.host}: ${peers.length} tunnel(s), probe every ${source.options.intervalMs} ms, ` +
    `down after ${source.options.multiplier} missed, up after ${source.options.upAfter} replies`;
  const text = peers.length === 0 ? `${summary}\n(no peers)` : `${summary}\n${alignedTable(header, rows)}`;
  return { text, data };
}
