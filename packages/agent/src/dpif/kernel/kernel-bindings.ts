/**
 * ARP/ND suppression on the kernel provider: the IP bindings of one VNI as
 * neighbour entries of its bridge device, which is where Linux's bridge
 * looks when a port has `neigh_suppress` (net/bridge/br_arp_nd_proxy.c:
 * br_do_proxy_suppress_arp / br_do_suppress_nd look the target up in the
 * bridge device's ARP or ND table, then the MAC in the bridge's FDB; when
 * that entry's port suppresses, the bridge answers the request itself and
 * does not flood it to suppressing ports). FRR's EVPN fills it the same way.
 *
 *  - remote bindings: the IPs the controller publishes with a MAC's FDB
 *    entry (fdb:set `ips`); the controller has settled conflicts already;
 *  - local bindings: learned from the ARP, NS and NA frames a local port
 *    sends (the neighbour snooper), reported as `ip:bound`; the first MAC
 *    keeps an IP while it is live (as ip-bindings.ts in userspace);
 *  - a binding lives while its MAC does: removed with the MAC's FDB entry,
 *    so no answer names a MAC the switch cannot reach.
 *
 * Pure: changes are returned as IpNeighbourChange lists for rtnetlink.
 */
import type { IpNeighbourChange } from '@dvs/netdev';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ICMPV6_TYPE_NEIGHBOR_SOLICITATION,
  canonicalIpAddress,
  decodeArp,
  decodeNeighborMessage,
  formatIpv4Address,
  formatIpv6Address,
  readMac,
} from '@dvs/wire';

export interface NeighbourBinding {
  mac: number;
  origin: 'local' | 'remote';
}

const ETHERNET_HEADER_LENGTH = 14;

export class KernelBindings {
  readonly byIp = new Map<string, NeighbourBinding>();
  /** Claims on a live binding's IP by another MAC, refused. */
  conflicts = 0;

  constructor(private readonly bridge: string) {}

  /** The controller's IPs of a remote MAC (replacing its previous ones). */
  setRemote(mac: number, ips: readonly string[], out: IpNeighbourChange[]): void {
    const wanted = new Set(ips.map((ip) => canonicalIpAddress(ip)).filter((ip): ip is string => ip !== null));
    for (const [ip, b] of this.byIp)
      if (b.mac === mac && b.origin === 'remote' && !wanted.has(ip)) this.remove(ip, out);
    for (const ip of wanted) {
      const b = this.byIp.get(ip);
      if (b !== undefined && b.mac === mac && b.origin === 'remote') continue;
      this.byIp.set(ip, { mac, origin: 'remote' });
      out.push({ op: 'replace', device: this.bridge, address: ip, mac });
    }
  }

  /** The MAC is gone (or no longer of that origin): its bindings go. */
  dropMac(mac: number, origin: 'local' | 'remote', out: IpNeighbourChange[]): void {
    for (const [ip, b] of this.byIp) if (b.mac === mac && b.origin === origin) this.remove(ip, out);
  }

  /**
   * A local port's frame said `mac` owns `ip`. True when the binding is new
   * (report it); false for a refresh or a refused claim on a live binding.
   */
  learnLocal(ip: string, mac: number, isLive: (mac: number) => boolean, out: IpNeighbourChange[]): boolean {
    const b = this.byIp.get(ip);
    if (b !== undefined && b.mac === mac) {
      if (b.origin === 'local') return false;
      b.origin = 'local'; // the MAC came here (a migration): its binding is ours now
      return true;
    }
    if (b !== undefined && isLive(b.mac)) {
      this.conflicts++;
      return false;
    }
    this.byIp.set(ip, { mac, origin: 'local' });
    out.push({ op: 'replace', device: this.bridge, address: ip, mac });
    return true;
  }

  ipsOf(mac: number): string[] {
    const out: string[] = [];
    for (const [ip, b] of this.byIp) if (b.mac === mac) out.push(ip);
    return out.sort();
  }

  /** Every binding as a change (after the bridge was made again). */
  all(): IpNeighbourChange[] {
    return [...this.byIp].map(([ip, b]) => ({ op: 'replace', device: this.bridge, address: ip, mac: b.mac }));
  }

  private remove(ip: string, out: IpNeighbourChange[]): void {
    this.byIp.delete(ip);
    out.push({ op: 'del', device: this.bridge, address: ip });
  }
}

/**
 * The binding a frame states, as the userspace pipeline learns it
 * (arp-responder.ts): an ARP request or reply binds its sender (not a probe
 * from 0.0.0.0); an NS its source address (not DAD), an NA its target; to the
 * link-layer address it carries, which must be the frame's own source MAC
 * (a port speaks only for itself). Null for anything else.
 */
export function bindingInFrame(frame: Uint8Array): { mac: number; ip: string } | null {
  if (frame.length < ETHERNET_HEADER_LENGTH) return null;
  const source = readMac(frame, 6);
  const ethertype = (frame[12]! << 8) | frame[13]!;
  if (ethertype === ETHERTYPE_ARP) {
    const arp = decodeArp(frame, ETHERNET_HEADER_LENGTH, frame.length - ETHERNET_HEADER_LENGTH);
    if (arp === null || (arp.op !== ARP_OP_REQUEST && arp.op !== ARP_OP_REPLY)) return null;
    if (arp.senderIp === 0 || arp.senderMac !== source) return null;
    return { mac: source, ip: formatIpv4Address(arp.senderIp) };
  }
  if (ethertype !== ETHERTYPE_IPV6) return null;
  const nd = decodeNeighborMessage(frame, ETHERNET_HEADER_LENGTH, frame.length - ETHERNET_HEADER_LENGTH);
  if (nd === null) return null;
  const mac = nd.linkLayerMac < 0 ? source : nd.linkLayerMac;
  if (mac !== source) return null;
  const solicitation = nd.type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION;
  const at = solicitation ? nd.srcOffset : nd.targetOffset;
  const ip = formatIpv6Address(frame, at);
  if (ip === '::') return null;
  return { mac, ip };
}
