/**
 * Counters of the data path. Every drop has a stable reason name (glossary:
 * "drop reason"); every port and every peer counts rx/tx frames and bytes.
 * Counters are plain number fields incremented in place: nothing allocates on
 * the hot path, and a snapshot copies them for the admin socket and metrics.
 */
import type { CountersSnapshot as WireCountersSnapshot, FdbCounters, TrafficCounters } from '@dvs/wire';

export type { FdbCounters, TrafficCounters };

/** Stable drop reason names, as shown by `counters/show` and the metrics. */
export const DROP_REASONS = [
  /** Too short for its headers, or a VXLAN/GRE header we do not accept. */
  'malformed',
  /** A packet for a VNI this host has no network for (or a port's VNI without network). */
  'unknown-vni',
  /** A packet whose outer source is not a known VTEP of its VNI. */
  'unknown-vtep',
  /** A packet that arrived with the other encapsulation than its network uses. */
  'wrong-encap',
  /** A frame whose payload exceeds the network's overlay MTU. */
  'mtu',
  /** A frame on a trunk port with a VLAN the port does not map (or untagged). */
  'unmapped-vlan',
  /** A double-tagged (QinQ) frame on a trunk port. */
  'qinq',
  /** A frame with a multicast/broadcast source MAC. */
  'bad-src-mac',
  /** A unicast frame whose destination sits on the port it came in on. */
  'hairpin',
  /** A decapsulated unicast frame for a MAC the FDB places on another VTEP. */
  'remote-dst',
  /** A frame for a VTEP whose encapsulation has no open socket. */
  'no-socket',
  /** A device or socket took fewer frames than offered (EAGAIN); never queued. */
  'tx-full',
  /**
   * A frame longer than the read slot, dropped by the port's device before
   * switching (a TSO super-frame from an attached device whose kernel
   * refused PACKET_VNET_HDR); also counted per port (deviceDrops).
   */
  'too-big',
  /** A probe frame arrived while no probe handler is registered. */
  'probe-unhandled',
  /** A frame from a port whose source MAC (or IPv4/IPv6 source) is not among the port's allowed pairs. */
  'port-security',
  /** An ARP packet from a port claiming an address (sender MAC or IP) the port does not own. */
  'arp-spoof',
  /** An IPv6 neighbour discovery packet claiming an address (target, source or link-layer) the port does not own. */
  'nd-spoof',
  /** A frame from a new source MAC on a port that already holds its MAC limit. */
  'mac-limit',
  /** A broadcast, multicast or unknown-unicast frame above its port's storm-control rate. */
  'storm-control',
  /** A frame carrying an 802.1Q/802.1ad tag on an access port (RFC 7348 §6.1: VLAN hopping). */
  'tagged-on-access',
  /** A frame beyond its port's QoS rate (ingress policing or egress limit; token-bucket.ts). */
  'policed',
  /** A frame sent by a port that is a mirror's output or an RSPAN analyser port: it only receives copies (mirror.ts). */
  'mirror-output',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounters = Record<DropReason, number>;

export function newDropCounters(): DropCounters {
  const drops = {} as DropCounters;
  for (const reason of DROP_REASONS) drops[reason] = 0;
  return drops;
}

export function newTrafficCounters(): TrafficCounters {
  return { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDrops: 0 };
}

export function newFdbCounters(): FdbCounters {
  return {
    learns: 0,
    moves: 0,
    evictions: 0,
    aged: 0,
    refused: 0,
    provisional: 0,
    confirmed: 0,
    learnConflicts: 0,
    claimsIgnored: 0,
  };
}

/** A JSON-ready copy of every counter (admin socket `counters/show`, metrics). */
export type CountersSnapshot = WireCountersSnapshot<DropReason>;
