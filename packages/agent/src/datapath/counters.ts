/**
 * Counters of the data path. Every drop has a stable reason name (glossary:
 * "drop reason"); every port and every peer counts rx/tx frames and bytes.
 * Counters are plain number fields incremented in place: nothing allocates on
 * the hot path, and a snapshot copies them for the admin socket and metrics.
 */

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
  /** A probe frame arrived while no probe handler is registered. */
  'probe-unhandled',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounters = Record<DropReason, number>;

export function newDropCounters(): DropCounters {
  const drops = {} as DropCounters;
  for (const reason of DROP_REASONS) drops[reason] = 0;
  return drops;
}

/** rx/tx frames and bytes of one port or one peer. */
export interface TrafficCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames this port/peer should have received but the device/socket refused (tx-full). */
  txDrops: number;
}

export function newTrafficCounters(): TrafficCounters {
  return { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDrops: 0 };
}

/** FDB activity, summed over every VNI. */
export interface FdbCounters {
  learns: number;
  moves: number;
  evictions: number;
  aged: number;
  /** Learns refused because the VNI's table was full of static entries. */
  refused: number;
}

export function newFdbCounters(): FdbCounters {
  return { learns: 0, moves: 0, evictions: 0, aged: 0, refused: 0 };
}

/** A JSON-ready copy of every counter (admin socket `counters/show`, metrics). */
export interface CountersSnapshot {
  drops: DropCounters;
  fdb: FdbCounters & { size: number; sizeByVni: Record<string, number> };
  ports: Record<string, TrafficCounters>;
  peers: Record<string, TrafficCounters>;
  /** Table changes apply() rejected (invalid VNI, MAC, VTEP, unknown network, …). */
  rejectedChanges: number;
  /** Batches abandoned because switching threw (a bug; stays 0). */
  internalErrors: number;
  /** MAC event listeners that threw (after their batch was out: no frame lost). */
  listenerErrors: number;
}
