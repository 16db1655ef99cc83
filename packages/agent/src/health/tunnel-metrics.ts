/**
 * Prometheus text exposition lines for tunnel health, appended by the agent's
 * metrics endpoint. Labels: peer (address:port), encap, peer_host (empty for
 * external VTEPs). Unmonitored peers export only dvs_tunnel_state.
 */
import type { TunnelSnapshot, TunnelState } from './tunnel-session.js';

const STATES: readonly TunnelState[] = ['init', 'up', 'down', 'unmonitored'];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(s: TunnelSnapshot, extra = ''): string {
  const address = s.peer.address.includes(':') ? `[${s.peer.address}]` : s.peer.address;
  const base = `peer="${escapeLabel(`${address}:${s.peer.port}`)}",encap="${s.encap}",peer_host="${escapeLabel(s.host ?? '')}"`;
  return `{${base}${extra}}`;
}

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: (s: TunnelSnapshot) => string[];
}

const FAMILIES: Family[] = [
  {
    name: 'dvs_tunnel_up',
    type: 'gauge',
    help: '1 when the tunnel to the peer is up, 0 otherwise.',
    samples: (s) => (s.state === 'unmonitored' ? [] : [`${labels(s)} ${s.state === 'up' ? 1 : 0}`]),
  },
  {
    name: 'dvs_tunnel_state',
    type: 'gauge',
    help: 'Tunnel state, one series per state, 1 for the current one.',
    samples: (s) => STATES.map((st) => `${labels(s, `,state="${st}"`)} ${s.state === st ? 1 : 0}`),
  },
  {
    name: 'dvs_tunnel_rtt_seconds',
    type: 'gauge',
    help: 'Probe round-trip time over the window: last, avg and p99.',
    samples: (s) =>
      (['last', 'avg', 'p99'] as const)
        .filter((k) => s.rttMs[k] !== null)
        .map((k) => `${labels(s, `,stat="${k}"`)} ${(s.rttMs[k] as number) / 1000}`),
  },
  {
    name: 'dvs_tunnel_loss_ratio',
    type: 'gauge',
    help: 'Probe loss over the window, 0..1.',
    samples: (s) => (s.lossPercent === null ? [] : [`${labels(s)} ${s.lossPercent / 100}`]),
  },
  {
    name: 'dvs_tunnel_probes_sent_total',
    type: 'counter',
    help: 'Probes sent to the peer.',
    samples: (s) => (s.state === 'unmonitored' ? [] : [`${labels(s)} ${s.probes.sent}`]),
  },
  {
    name: 'dvs_tunnel_probe_replies_total',
    type: 'counter',
    help: 'Probe replies received from the peer.',
    samples: (s) => (s.state === 'unmonitored' ? [] : [`${labels(s)} ${s.probes.replies}`]),
  },
  {
    name: 'dvs_tunnel_probe_send_errors_total',
    type: 'counter',
    help: 'Probes the underlay refused to send (no route, …).',
    samples: (s) => (s.state === 'unmonitored' ? [] : [`${labels(s)} ${s.probes.sendErrors}`]),
  },
  {
    name: 'dvs_tunnel_last_change_timestamp_seconds',
    type: 'gauge',
    help: 'Time of the last state change, seconds since the epoch.',
    samples: (s) => [`${labels(s)} ${s.since / 1000}`],
  },
];

/** Exposition text (ends with a newline when not empty). */
export function tunnelMetricLines(snapshots: readonly TunnelSnapshot[]): string {
  const out: string[] = [];
  for (const family of FAMILIES) {
    const samples = snapshots.flatMap((s) => family.samples(s).map((line) => family.name + line));
    if (samples.length === 0) continue;
    out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`, ...samples);
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}
