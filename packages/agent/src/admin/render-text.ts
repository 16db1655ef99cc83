import { flowExportText } from '@dvs/wire';
import type { CountersSnapshot } from '../datapath/counters.js';
import type { FdbEntryView, PeerView } from '../datapath/views.js';
import type { PlacedNetworkView } from '../dpif/datapaths.js';
import type { AgentPortView } from '../ports/managed-port.js';
import { formatPortSecurity } from '../config/port-security-config.js';
import type { PortSecurityCounters } from '../datapath/port-security.js';
import type { PortDeviceDrops } from '@dvs/wire';

/** "port-security 3, storm-broadcast 120" (non-zero only, by drop reason), or ''. */
function dropsByReasonText(c: PortSecurityCounters | PortDeviceDrops | undefined): string {
  if (c === undefined) return '';
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k.replace(/[A-Z]/g, (x) => '-' + x.toLowerCase())} ${n}`)
    .join(', ');
}

/** Text renderings of the admin views: aligned columns, one row per item. */

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** Ports, one row each (SINCE: seconds in the current state), then a line per port with an MTU warning or a reason for being down. */
export function renderPorts(ports: AgentPortView[], now: number): string {
  if (ports.length === 0) return 'no ports\n';
  const rows = table(
    [
      'PORT',
      'KIND',
      'DEVICE',
      'STATE',
      'SINCE',
      'MODE',
      'VNI',
      'MTU',
      'RX-FRAMES',
      'RX-BYTES',
      'TX-FRAMES',
      'TX-BYTES',
      'TX-DROPS',
      'SECURITY-DROPS',
    ],
    ports.map((p) => [
      p.name,
      p.kind + (p.persistent ? '(persistent)' : ''),
      p.deviceKind,
      p.state,
      `${Math.max(0, Math.round((now - p.since) / 1000))}s`,
      p.mode,
      p.mode === 'access'
        ? String(p.vni)
        : Object.entries(p.vlans)
            .map(([vlan, vni]) => `${vlan}=${vni}`)
            .join(','),
      p.mtu,
      p.counters.rxFrames,
      p.counters.rxBytes,
      p.counters.txFrames,
      p.counters.txBytes,
      p.counters.txDrops,
      Object.values(p.securityDrops ?? {}).reduce((a, b) => a + b, 0),
    ]),
  );
  const notes = ports.flatMap((p) => [
    ...(p.state !== 'up' && p.detail !== null ? [`${p.name}: ${p.state}: ${p.detail}`] : []),
    ...(p.mtuWarning !== null ? [`${p.name}: warning: ${p.mtuWarning}`] : []),
    ...(p.security !== undefined
      ? [
          `${p.name}: security: ${formatPortSecurity(p.security)}${p.security.lockedMac !== undefined ? ` (locked to ${p.security.lockedMac})` : ''}`,
        ]
      : []),
    ...(droppedText(p) !== '' ? [`${p.name}: dropped: ${droppedText(p)}`] : []),
  ]);
  return rows + notes.map((n) => n + '\n').join('');
}

/** A port's drops by reason: port security's, then its device's ("too-big 3"). */
function droppedText(p: AgentPortView): string {
  return [dropsByReasonText(p.securityDrops), dropsByReasonText(p.deviceDrops)].filter((t) => t !== '').join(', ');
}

export function renderFdb(entries: FdbEntryView[]): string {
  if (entries.length === 0) return 'no FDB entries\n';
  return table(
    ['VNI', 'MAC', 'TYPE', 'LOCATION', 'FLAGS', 'SEQ', 'AGE', 'MOVES', 'IPS'],
    entries.map((e) => [
      e.vni,
      e.mac,
      e.kind,
      e.location,
      e.static ? 'static' : e.control ? 'control' : 'learned',
      e.seq,
      e.static || e.control ? '-' : `${e.ageSeconds}s`,
      e.moves,
      e.ips.join(',') || '-',
    ]),
  );
}

export function renderPeers(peers: PeerView[]): string {
  if (peers.length === 0) return 'no peers\n';
  return table(
    ['VTEP', 'VNIS', 'FLOOD', 'RX-FRAMES', 'RX-BYTES', 'TX-FRAMES', 'TX-BYTES', 'TX-DROPS'],
    peers.map((p) => [
      p.vtep,
      p.vnis.join(',') || '-',
      p.floodVnis.join(',') || '-',
      p.counters.rxFrames,
      p.counters.rxBytes,
      p.counters.txFrames,
      p.counters.txBytes,
      p.counters.txDrops,
    ]),
  );
}

export function renderNetworks(networks: PlacedNetworkView[]): string {
  if (networks.length === 0) return 'no networks\n';
  return (
    table(
      [
        'VNI',
        'DATAPATH',
        'ENCAP',
        'MTU',
        'FDB',
        'PORTS',
        'FLOOD-LIST',
        'ARP-SUPPR',
        'FLOW-EXPORT',
        'IPS',
        'ANSWERED',
        'FLOODED',
        'CONFLICTS',
      ],
      networks.map((n) => [
        n.vni,
        n.provider,
        n.encap,
        n.mtu,
        n.fdbSize,
        n.ports.join(',') || '-',
        n.floodList.join(',') || '-',
        n.arpSuppression ? 'on' : 'off',
        flowExportText(n.flowExport),
        n.suppression.bindings,
        n.suppression.answered,
        n.suppression.flooded,
        n.suppression.conflicts,
      ]),
    ) +
    networks.map((n) => `VNI ${n.vni} on ${n.provider}: ${n.providerReason}\n`).join('') +
    networks
      .flatMap((n) =>
        n.suppression.recentConflicts.map(
          (c) => `VNI ${n.vni}: IP ${c.ip} is ${c.mac}'s; ${c.loser} claimed it too (${c.count}x)`,
        ),
      )
      .map((line) => line + '\n')
      .join('')
  );
}

export function renderCounters(c: CountersSnapshot): string {
  const drops = Object.entries(c.drops);
  let out = 'drops:\n' + drops.map(([reason, n]) => `  ${reason.padEnd(16)} ${n}`).join('\n') + '\n';
  out += `fdb: size ${c.fdb.size}, learns ${c.fdb.learns}, moves ${c.fdb.moves}, evictions ${c.fdb.evictions}, aged ${c.fdb.aged}, refused ${c.fdb.refused}\n`;
  out += `mac locations: provisional ${c.fdb.provisional}, confirmed ${c.fdb.confirmed}, learn-conflict ${c.fdb.learnConflicts}, claims ignored ${c.fdb.claimsIgnored}\n`;
  const secured = Object.entries(c.portSecurity).filter(([, s]) => dropsByReasonText(s) !== '');
  if (secured.length > 0)
    out += 'port security drops:\n' + secured.map(([port, s]) => `  ${port}: ${dropsByReasonText(s)}\n`).join('');
  out += `table changes rejected: ${c.rejectedChanges}, internal errors: ${c.internalErrors}, event listener errors: ${c.listenerErrors}\n`;
  const traffic = (title: string, t: CountersSnapshot['ports']) =>
    Object.keys(t).length === 0
      ? ''
      : `${title}:\n` +
        table(
          ['NAME', 'RX-FRAMES', 'RX-BYTES', 'TX-FRAMES', 'TX-BYTES', 'TX-DROPS'],
          Object.entries(t).map(([k, v]) => [k, v.rxFrames, v.rxBytes, v.txFrames, v.txBytes, v.txDrops]),
        );
  return out + traffic('ports', c.ports) + traffic('peers', c.peers);
}
