import { formatMac } from '@dvs/wire';
import type { CountersSnapshot, DropCounters, FdbCounters } from './counters.js';
import type { FdbEntry } from './fdb.js';
import type { NetworkState } from './network.js';
import { Port } from './port.js';
import type { Peer } from './peer.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from './views.js';

/** Table rows → JSON views (admin socket, metrics). Off the hot path. */

export function describeFdbEntry(entry: FdbEntry, now: number): FdbEntryView {
  const local = entry.location instanceof Port;
  return {
    vni: entry.vni,
    mac: formatMac(entry.mac),
    kind: local ? 'port' : 'vtep',
    location: entry.location instanceof Port ? entry.location.name : entry.location.id,
    static: entry.isStatic,
    control: entry.control,
    seq: entry.seq,
    ageSeconds: Math.max(0, Math.floor((now - entry.lastSeen) / 1000)),
    moves: entry.moves,
    ...(entry.home !== null ? { provisionalHome: entry.home instanceof Port ? entry.home.name : entry.home.id } : {}),
  };
}

export function describePort(port: Port): PortView {
  return {
    ...(port.guard !== null ? { security: port.guard.describe() } : {}),
    securityDrops: { ...port.securityDrops },
    name: port.name,
    mode: port.mode,
    vni: port.mode === 'access' ? port.accessVni : null,
    vlans: Object.fromEntries([...port.vlanToVni].map(([vlan, vni]) => [String(vlan), vni])),
    device: port.device.name,
    mtu: port.device.mtu,
    counters: { ...port.counters },
  };
}

export function describePeer(peer: Peer, networks: readonly NetworkState[]): PeerView {
  const vnis: number[] = [];
  const floodVnis: number[] = [];
  for (const net of networks) {
    if (net.knownVteps.has(peer)) vnis.push(net.vni);
    if (net.floodList.has(peer)) floodVnis.push(net.vni);
  }
  return { vtep: peer.id, address: peer.address, port: peer.port, vnis, floodVnis, counters: { ...peer.counters } };
}

export function describeNetwork(net: NetworkState): NetworkView {
  return {
    vni: net.vni,
    encap: net.spec.encap,
    mtu: net.spec.mtu,
    ports: net.members.map((m) => (m.vlan < 0 ? m.port.name : `${m.port.name}.${m.vlan}`)),
    floodList: net.floodList.peers.map((p) => p.id),
    peers: net.peers.map((p) => p.id),
    fdbSize: net.fdb.size,
  };
}

/** Every counter, copied (admin socket `counters/show`, metrics). */
export function countersSnapshot(
  networks: readonly NetworkState[],
  ports: Iterable<Port>,
  peers: Iterable<Peer>,
  totals: {
    drops: DropCounters;
    fdb: FdbCounters;
    rejectedChanges: number;
    internalErrors: number;
    listenerErrors: number;
  },
): CountersSnapshot {
  const sizeByVni: Record<string, number> = {};
  let size = 0;
  for (const net of networks) {
    sizeByVni[String(net.vni)] = net.fdb.size;
    size += net.fdb.size;
  }
  const portCounters: CountersSnapshot['ports'] = {};
  const security: CountersSnapshot['portSecurity'] = {};
  for (const port of ports) {
    portCounters[port.name] = { ...port.counters };
    security[port.name] = { ...port.securityDrops };
  }
  const peerCounters: CountersSnapshot['peers'] = {};
  for (const peer of peers) peerCounters[peer.id] = { ...peer.counters };
  return {
    drops: { ...totals.drops },
    fdb: { ...totals.fdb, size, sizeByVni },
    ports: portCounters,
    portSecurity: security,
    peers: peerCounters,
    rejectedChanges: totals.rejectedChanges,
    internalErrors: totals.internalErrors,
    listenerErrors: totals.listenerErrors,
  };
}
