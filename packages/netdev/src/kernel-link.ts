import { linkInfoOf } from './link-info.js';
import type { LinkInfo } from './link-info.js';
import type { NativeLinkRecord } from './native-binding.js';

/**
 * A link with what a kernel datapath needs to know about it, read over
 * rtnetlink (`Rtnetlink.link()` / `links()`): LinkInfo plus the alias dvs
 * marks its devices with, a vxlan device's or a bridge's settings, and a
 * bridge port's flags as its bridge holds them.
 */
export interface KernelLink extends LinkInfo {
  /** IFLA_IFALIAS (`ip link set … alias`); '' when none. dvs's devices carry 'dvs:…' (dvs-links.ts). */
  readonly alias: string;
  readonly vxlan?: VxlanDetails;
  readonly bridge?: BridgeDetails;
  /** Present when the link is a bridge port (its master is a bridge). */
  readonly bridgePort?: BridgePortDetails;
}

export interface VxlanDetails {
  /** null in external (collect-metadata) mode, where the VNI comes with each packet. */
  readonly vni: number | null;
  /** The local VTEP address; '' when unset. */
  readonly local: string;
  /** A remote or multicast group; '' when none (dvs uses none: head-end replication). */
  readonly group: string;
  /** The UDP destination port (the kernel's default 8472 when created without one; dvs sets 4789). */
  readonly port: number;
  /** ifindex of the underlay device it is bound to (IFLA_VXLAN_LINK); 0 when none. */
  readonly underlayIndex: number;
  /** Data-plane learning of remote MACs from received packets. */
  readonly learning: boolean;
  /** External (collect-metadata) mode: one device for every VNI, the VNI per packet. */
  readonly external: boolean;
  readonly vniFilter: boolean;
  /** 0: inherit/auto. */
  readonly ttl: number;
  readonly ageingSeconds: number;
  /** Most FDB entries the device takes; 0: no limit. */
  readonly maxEntries: number;
  readonly udpChecksum: boolean;
  readonly udp6ZeroChecksumTx: boolean;
  readonly udp6ZeroChecksumRx: boolean;
}

export interface BridgeDetails {
  /** How long a learned MAC stays without traffic (IFLA_BR_AGEING_TIME). */
  readonly ageingSeconds: number;
  readonly vlanFiltering: boolean;
  readonly stp: boolean;
  readonly multicastSnooping: boolean;
}

/** What a bridge does with one of its ports (`bridge link set` / `ip link set … type bridge_slave`). */
export interface BridgePortFlags {
  /** Learn source MACs of frames arriving on the port. Off for dvs's vxlan port: remote MACs come from the controller. */
  readonly learning: boolean;
  /** Answer ARP/ND for the port from the bridge's neighbour entries instead of flooding them (ARP/ND suppression). */
  readonly neighSuppress: boolean;
  /** Flood unknown unicast out of the port. */
  readonly unicastFlood: boolean;
  readonly multicastFlood: boolean;
  readonly broadcastFlood: boolean;
  /** Send frames back out of the port they came in on (reflective relay). */
  readonly hairpin: boolean;
  /** An isolated port talks only to non-isolated ports. */
  readonly isolated: boolean;
}

export type BridgePortState = 'disabled' | 'listening' | 'learning' | 'forwarding' | 'blocking';

export interface BridgePortDetails extends BridgePortFlags {
  /** STP state; 'forwarding' for a port of an up bridge without STP whose device is up. */
  readonly state: BridgePortState;
}

const PORT_STATES: readonly BridgePortState[] = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];
/** USER_HZ: the unit of the bridge's ageing time is 1/100 s. */
export const CENTISECONDS_PER_SECOND = 100;

/** @internal Turns the addon's record into a KernelLink. */
export function kernelLinkOf(r: NativeLinkRecord): KernelLink {
  const link: { -readonly [K in keyof KernelLink]: KernelLink[K] } = { ...linkInfoOf(r), alias: r.alias };
  if (r.vxlan !== undefined) {
    const v = r.vxlan;
    link.vxlan = {
      vni: v.external ? null : v.vni,
      local: v.local,
      group: v.group,
      port: v.port,
      underlayIndex: v.underlay,
      learning: v.learning,
      external: v.external,
      vniFilter: v.vniFilter,
      ttl: v.ttl,
      ageingSeconds: v.ageing,
      maxEntries: v.limit,
      udpChecksum: v.udpChecksum,
      udp6ZeroChecksumTx: v.udp6ZeroChecksumTx,
      udp6ZeroChecksumRx: v.udp6ZeroChecksumRx,
    };
  }
  if (r.bridge !== undefined) {
    link.bridge = {
      ageingSeconds: r.bridge.ageingCentiseconds / CENTISECONDS_PER_SECOND,
      vlanFiltering: r.bridge.vlanFiltering,
      stp: r.bridge.stpState !== 0,
      multicastSnooping: r.bridge.multicastSnooping,
    };
  }
  if (r.bridgePort !== undefined) {
    const { state, ...flags } = r.bridgePort;
    link.bridgePort = { ...flags, state: PORT_STATES[state] ?? 'disabled' };
  }
  return link;
}

/** A link's counters (IFLA_STATS64), read for many links in one dump (`Rtnetlink.linkCounters()`). */
export interface LinkCounters {
  readonly ifindex: number;
  readonly name: string;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxErrors: number;
  readonly txErrors: number;
  readonly rxDropped: number;
  readonly txDropped: number;
  readonly multicast: number;
}

/** @internal */
export function linkCountersOf(r: NativeLinkRecord): LinkCounters | null {
  if (r.counters === undefined) return null;
  return { ifindex: r.ifindex, name: r.name, ...r.counters };
}
