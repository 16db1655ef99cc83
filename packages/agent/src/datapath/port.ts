import type { FrameDevice, FrameDeviceStats } from '@dvs/netdev';
import { isValidVlanId, isValidVni, type PortDeviceDrops } from '@dvs/wire';
import { DataPathError } from './data-path-error.js';
import { newTrafficCounters, type TrafficCounters } from './counters.js';
import {
  PortGuard,
  isEmptyPortSecurity,
  newPortSecurityCounters,
  type PortSecurity,
  type PortSecurityCounters,
} from './port-security.js';
import type { TokenBucket } from './token-bucket.js';
import { TxQueue } from './tx-queue.js';

/**
 * How a port's frames map to VNIs.
 *  - access: every frame belongs to `vni`; frames go out untagged. A frame
 *    that arrives tagged (802.1Q or 802.1ad) is dropped (`tagged-on-access`,
 *    RFC 7348 §6.1): it could hop into a VLAN of a trunk elsewhere.
 *  - trunk: 802.1Q VLAN id → VNI (`vlans`); the tag is stripped on ingress
 *    before switching/tunnelling and pushed again on egress. Untagged frames,
 *    unmapped VLANs and QinQ are dropped and counted.
 */
export type PortMode = { mode: 'access'; vni: number } | { mode: 'trunk'; vlans: ReadonlyMap<number, number> };

export type PortSpec = PortMode & { name: string; security?: PortSecurity };

/** Throws DataPathError (DVS_BAD_ARGUMENT) when the VNI mapping of `spec` is invalid. */
export function checkPortSpec(spec: PortSpec): void {
  const bad = (why: string): DataPathError => new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: ${why}`);
  if (spec.mode === 'access' && !isValidVni(spec.vni)) throw bad(`VNI must be 1..16777215, got ${spec.vni}`);
  if (spec.mode !== 'trunk') return;
  if (spec.vlans.size === 0) throw bad('a trunk needs at least one VLAN=VNI');
  const seen = new Set<number>();
  for (const [vlan, vni] of spec.vlans) {
    if (!isValidVlanId(vlan)) throw bad(`VLAN must be 1..4094, got ${vlan}`);
    if (!isValidVni(vni)) throw bad(`VNI must be 1..16777215, got ${vni}`);
    if (seen.has(vni)) throw bad(`VNI ${vni} is mapped from two VLANs`);
    seen.add(vni);
  }
}

/** A port attached to the data path: its device, its VNI mapping, its counters and pending output. */
export class Port {
  readonly name: string;
  readonly mode: 'access' | 'trunk';
  /** access: the VNI; trunk: -1. */
  readonly accessVni: number;
  /** trunk: VLAN → VNI. */
  readonly vlanToVni: ReadonlyMap<number, number>;
  /** trunk: VNI → VLAN (egress tag); access: VNI → -1 (untagged). */
  readonly vniToVlan: ReadonlyMap<number, number>;
  /** rx/tx of the port; given by the caller when they continue (a device attached again after it was gone). */
  readonly counters: TrafficCounters;
  readonly tx: TxQueue;
  /** Port security (allowed pairs, MAC limit, storm control); null: none configured. */
  readonly guard: PortGuard | null;
  /** Drops of port security and L2 hygiene on this port. */
  readonly securityDrops: PortSecurityCounters = newPortSecurityCounters();
  /** Drops by the device itself, before switching (countDeviceDrops). */
  readonly deviceDrops: PortDeviceDrops = { tooBig: 0 };
  /** The device's own counters (one object it updates in place), or null when it keeps none. */
  readonly deviceStats: FrameDeviceStats | null;
  /** deviceStats.readDropsTooBig when last charged to deviceDrops. */
  tooBigCharged: number;
  /** false once its device failed (port:gone): it no longer holds its MACs against tunnel claims. */
  up = true;
  /** QoS (token-bucket.ts): frames from the port, and frames to it, beyond their rate are dropped as `policed`. */
  ingressPolicer: TokenBucket | null = null;
  egressPolicer: TokenBucket | null = null;

  constructor(
    spec: PortSpec,
    readonly device: FrameDevice,
    refCapacity: number,
    copyCapacity: number,
    counters: TrafficCounters = newTrafficCounters(),
  ) {
    this.counters = counters;
    this.deviceStats = device.stats ?? null;
    this.tooBigCharged = this.deviceStats?.readDropsTooBig ?? 0;
    this.name = spec.name;
    this.mode = spec.mode;
    if (spec.mode === 'access') {
      this.accessVni = spec.vni;
      this.vlanToVni = new Map();
      this.vniToVlan = new Map([[spec.vni, -1]]);
    } else {
      this.accessVni = -1;
      this.vlanToVni = new Map(spec.vlans);
      this.vniToVlan = new Map([...spec.vlans].map(([vlan, vni]) => [vni, vlan]));
    }
    this.tx = new TxQueue(refCapacity, copyCapacity);
    const security = spec.security;
    this.guard = security === undefined || isEmptyPortSecurity(security) ? null : new PortGuard(security, spec.name);
  }

  /** The VNIs this port belongs to. */
  vnis(): number[] {
    return [...this.vniToVlan.keys()];
  }

  /** Human form of the mapping: "100" or "trunk:10=100,20=200". */
  describeMode(): string {
    if (this.mode === 'access') return String(this.accessVni);
    return 'trunk:' + [...this.vlanToVni].map(([vlan, vni]) => `${vlan}=${vni}`).join(',');
  }
}

/** One membership of a port in a VNI: the egress VLAN tag, or -1 for untagged. */
export interface PortMember {
  port: Port;
  vlan: number;
}
