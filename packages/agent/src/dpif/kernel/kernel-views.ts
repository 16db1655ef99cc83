/**
 * The kernel provider's views (FDB, ports, peers, networks, counters), read
 * from the kernel (bridge and vxlan FDB dumps, link stats, nft counters) and
 * from what the provider keeps per network, in the shapes the userspace
 * provider gives, so the CLI and the metrics do not care which serves.
 */
import type { FdbEntry, Rtnetlink } from '@dvs/netdev';
import { formatMac } from '@dvs/wire';
import {
  newDropCounters,
  newFdbCounters,
  newTrafficCounters,
  type CountersSnapshot,
  type TrafficCounters,
} from '../../datapath/counters.js';
import { isEmptyPortSecurity, newPortSecurityCounters } from '../../datapath/port-security.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from '../../datapath/views.js';
import { vtepId, type KernelNetwork, type KernelPort } from './kernel-network.js';

/** What the views read: the provider's state and its kernel I/O. */
export interface KernelViewSource {
  networks: ReadonlyMap<number, KernelNetwork>;
  ports: ReadonlyMap<string, KernelPort>;
  /** The VXLAN port (an entry without a port of its own uses it). */
  vtepPort: number;
  rtnl: Rtnetlink;
  kernelFdb(net: KernelNetwork): FdbEntry[];
  securityDrops(): CountersSnapshot['portSecurity'];
  errors(): { rejectedChanges: number; kernelErrors: number; listenerErrors: number };
}

/** From the kernel: the bridge's entries on our ports and the vxlan device's unicast entries. */
export function kernelFdbEntries(k: KernelViewSource, vni?: number): FdbEntryView[] {
  const out: FdbEntryView[] = [];
  for (const net of k.networks.values()) {
    if (vni !== undefined && net.vni !== vni) continue;
    if (net.problem !== null) continue;
    const portNames = portNamesByIndex(k);
    for (const e of k.kernelFdb(net)) {
      if (e.table === 'master' && e.state !== 'permanent') {
        const port = portNames.get(e.ifindex);
        if (port === undefined) continue;
        const seq = net.local.get(e.mac)?.seq ?? 0;
        out.push(view(net.vni, e.mac, 'port', port, e.state === 'static', false, seq, net.bindings.ipsOf(e.mac)));
      } else if (e.table === 'self' && e.ifindex === net.vxlanIndex && e.mac !== 0 && e.dst !== '') {
        const remote = net.remote.get(e.mac);
        const port = e.dstPort === 0 ? k.vtepPort : e.dstPort;
        out.push(
          view(
            net.vni,
            e.mac,
            'vtep',
            vtepId({ address: e.dst, port }),
            remote?.static ?? false,
            true,
            remote?.seq ?? 0,
            net.bindings.ipsOf(e.mac),
          ),
        );
      }
    }
  }
  return out.sort((a, b) => a.vni - b.vni || a.mac.localeCompare(b.mac));
}

export function kernelPortViews(k: KernelViewSource): PortView[] {
  const stats = linkStats(k);
  const drops = k.securityDrops();
  return [...k.ports.values()].map((p) => ({
    ...(isEmptyPortSecurity(p.spec.security)
      ? {}
      : {
          security: {
            ...p.spec.security,
            ...(p.lockedMac !== undefined ? { lockedMac: formatMac(p.lockedMac) } : {}),
          },
          securityDrops: drops[p.spec.name] ?? newPortSecurityCounters(),
        }),
    name: p.spec.name,
    mode: 'access',
    vni: p.spec.vni,
    vlans: {},
    device: p.device.name,
    mtu: k.rtnl.link(p.ifindex)?.mtu ?? p.device.mtu,
    counters: stats.get(p.ifindex) ?? newTrafficCounters(),
  }));
}

export function kernelPeerViews(k: KernelViewSource): PeerView[] {
  const peers = new Map<string, PeerView>();
  const touch = (vtep: { address: string; port: number }, vni: number, flood: boolean): void => {
    const id = vtepId(vtep);
    let p = peers.get(id);
    if (p === undefined)
      peers.set(
        id,
        (p = {
          vtep: id,
          address: vtep.address,
          port: vtep.port,
          vnis: [],
          floodVnis: [],
          counters: newTrafficCounters(),
        }),
      );
    if (!p.vnis.includes(vni)) p.vnis.push(vni);
    if (flood && !p.floodVnis.includes(vni)) p.floodVnis.push(vni);
  };
  for (const net of k.networks.values()) {
    for (const v of net.peers) touch(v, net.vni, false);
    for (const v of net.flood) touch(v, net.vni, true);
    for (const r of net.remote.values()) touch(r.vtep, net.vni, false);
  }
  return [...peers.values()];
}

export function kernelNetworkViews(k: KernelViewSource): NetworkView[] {
  return [...k.networks.values()].map((net) => ({
    vni: net.vni,
    encap: net.spec.encap,
    mtu: net.spec.mtu,
    ports: [...k.ports.values()].filter((p) => p.enslaved && p.spec.vni === net.vni).map((p) => p.spec.name),
    floodList: net.flood.map(vtepId),
    peers: net.peers.map(vtepId),
    fdbSize: net.remote.size + net.local.size,
    arpSuppression: net.spec.arpSuppression === true,
    // The kernel's bridge and vxlan devices export no flows, whatever the network asks.
    flowExport: { sflow: false, ipfix: false },
    // The bridge answers in the kernel and counts nothing: answered and flooded stay 0 here.
    suppression: {
      bindings: net.bindings.byIp.size,
      answered: 0,
      flooded: 0,
      conflicts: net.bindings.conflicts,
      refused: 0,
      recentConflicts: [],
    },
  }));
}

/** Port counters from the kernel's link stats; the kernel keeps no per-VTEP counters. */
export function kernelCounters(k: KernelViewSource): CountersSnapshot {
  const stats = linkStats(k);
  const ports: Record<string, TrafficCounters> = {};
  for (const p of k.ports.values()) ports[p.spec.name] = stats.get(p.ifindex) ?? newTrafficCounters();
  const sizeByVni: Record<string, number> = {};
  let size = 0;
  for (const net of k.networks.values()) {
    sizeByVni[String(net.vni)] = net.remote.size + net.local.size;
    size += net.remote.size + net.local.size;
  }
  const portSecurity = k.securityDrops();
  const drops = newDropCounters();
  for (const c of Object.values(portSecurity)) {
    drops['port-security'] += c.portSecurity;
    drops['arp-spoof'] += c.arpSpoof;
    drops['storm-control'] += c.stormBroadcast + c.stormMulticast;
  }
  return {
    drops,
    fdb: { ...newFdbCounters(), size, sizeByVni },
    ports,
    peers: {},
    portSecurity,
    rejectedChanges: k.errors().rejectedChanges,
    internalErrors: k.errors().kernelErrors,
    listenerErrors: k.errors().listenerErrors,
  };
}

function linkStats(k: KernelViewSource): Map<number, TrafficCounters> {
  const out = new Map<number, TrafficCounters>();
  if (k.ports.size === 0) return out;
  try {
    for (const c of k.rtnl.linkCounters([...k.ports.values()].map((p) => p.ifindex)))
      out.set(c.ifindex, {
        rxFrames: c.rxPackets,
        rxBytes: c.rxBytes,
        txFrames: c.txPackets,
        txBytes: c.txBytes,
        txDrops: c.txDropped,
      });
  } catch {
    // Counters are a view: none this time.
  }
  return out;
}

function portNamesByIndex(k: KernelViewSource): Map<number, string> {
  return new Map([...k.ports.values()].map((p) => [p.ifindex, p.spec.name]));
}

function view(
  vni: number,
  mac: number,
  kind: 'port' | 'vtep',
  location: string,
  isStatic: boolean,
  control: boolean,
  seq: number,
  ips: string[],
): FdbEntryView {
  return {
    vni,
    mac: formatMac(mac),
    kind,
    location,
    static: isStatic,
    control,
    seq,
    ageSeconds: 0,
    moves: 0,
    ips,
  };
}
