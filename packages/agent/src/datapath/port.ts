import type { FrameDevice } from '@dvs/netdev';
import { newTrafficCounters, type TrafficCounters } from './counters.js';
import type { TokenBucket } from './token-bucket.js';
import { TxQueue } from './tx-queue.js';

/**
 * How a port's frames map to VNIs.
 *  - access: every frame belongs to `vni`; frames go out untagged (a VM's own
 *    802.1Q tags, if any, travel inside the frame untouched).
 *  - trunk: 802.1Q VLAN id → VNI (`vlans`); the tag is stripped on ingress
 *    before switching/tunnelling and pushed again on egress. Untagged frames,
 *    unmapped VLANs and QinQ are dropped and counted.
 */
export type PortMode = { mode: 'access'; vni: number } | { mode: 'trunk'; vlans: ReadonlyMap<number, number> };

export type PortSpec = PortMode & { name: string };

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
