import { formatMac, networkFlowExport, type PortPolicerView } from '@dvs/wire';
import { SegmentingPortDevice } from './segmenting-port-device.js';
import type { CountersSnapshot, DropCounters, FdbCounters } from './counters.js';
import type { TokenBucket } from './token-bucket.js';
import type { FdbEntry } from './fdb.js';
import type { NetworkState } from './network.js';
import { Port } from './port.js';
import type { Peer } from './peer.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from './views.js';

/** Table rows → JSON views (admin socket, metrics). Off the hot path. */

/** `ips`: the IPs bound to the entry's MAC (describeIpsByMac). */
export function describeFdbEntry(entry: FdbEntry, now: number, ips: string[] = []): FdbEntryView {
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
    ips,
  };
}

/** The IPs bound in a network, by MAC (48-bit number). */
export function describeIpsByMac(net: NetworkState): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const b of net.bindings.values()) {
    const list = out.get(b.mac);
    if (list === undefined) out.set(b.mac, [b.ip]);
    else list.push(b.ip);
  }
  for (const list of out.values()) list.sort();
  return out;
}

export function describePort(port: Port): PortView {
  return {
    ...(port.guard !== null ? { security: port.guard.describe() } : {}),
    securityDrops: { ...port.securityDrops },
    deviceDrops: { ...port.deviceDrops },
    name: port.name,
    mode: port.mode,
    vni: port.mode === 'access' ? port.accessVni : null,
    vlans: Object.fromEntries([...port.vlanToVni].map(([vlan, vni]) => [String(vlan), vni])),
    device: port.device.name,
    mtu: port.device.mtu,
    counters: { ...port.counters },
    qos: { ingress: describePolicer(port.ingressPolicer), egress: describePolicer(port.egressPolicer) },
    ...(port.device instanceof SegmentingPortDevice
      ? {
          offloads: {
            enabled: [...port.device.tapOffloads.enabled],
            ...port.device.counters,
            ...port.device.writer.counters,
          },
        }
      : {}),
  };
}

function describePolicer(bucket: TokenBucket | null): PortPolicerView | null {
  return bucket === null ? null : { ...bucket.spec, policed: bucket.policed };
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
    arpSuppression: net.spec.arpSuppression === true,
    flowExport: { ...networkFlowExport(net.spec) },
    suppression: {
      bindings: net.bindings.size,
      ...net.bindings.counters,
      recentConflicts: net.bindings.conflicts.map((c) => ({
        ip: c.binding.ip,
        mac: formatMac(c.binding.mac),
        loser: formatMac(c.loser),
        count: c.count,
      })),
    },
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
    mirrors: CountersSnapshot['mirrors'];
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
    mirrors: totals.mirrors,
  };
}
