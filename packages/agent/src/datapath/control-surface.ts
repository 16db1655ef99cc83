/**
 * The one surface through which the control plane (etcd sync, static config,
 * admin socket) changes the data path, and the events the data path reports
 * back. The data path imports nothing of the control plane; the control plane
 * imports only this file's types and the DataPath's `apply()`.
 *
 * MACs are 48-bit numbers (see @dvs/wire readMac); VTEPs are underlay
 * address + UDP port; encaps are @dvs/wire's ENCAPS.
 */
import type { DatapathChoice, Encap, NetworkFlowExport, VniDigest, VtepRecord } from '@dvs/wire';

export interface Vtep {
  address: string;
  port: number;
}

export interface NetworkSpec {
  vni: number;
  encap: Encap;
  /** Overlay MTU: largest inner frame payload (IP MTU) carried. */
  mtu: number;
  /**
   * ARP and ND suppression: answer a broadcast ARP request or a multicast NS
   * for an IP bound to a live MAC from the table, instead of flooding it
   * (arp-responder.ts). Bindings are learned whatever this says.
   */
  arpSuppression?: boolean;
  /**
   * Which datapath provider should serve it (the network record's or the
   * config's `datapath`; absent: auto). The provider ignores it; `Datapaths`
   * (dpif/) places the network by it.
   */
  datapath?: DatapathChoice;
  /**
   * Whether sFlow samples its frames and IPFIX caches its flows (the network
   * record's `flowExport`; absent: both). Read per frame by the flow tap.
   */
  flowExport?: NetworkFlowExport;
}

export type TableChange =
  | { kind: 'network:set'; network: NetworkSpec }
  | { kind: 'network:del'; vni: number }
  /** Authoritative remote location of a MAC (from the controller or static config). */
  /** `ips`: the MAC's IP addresses as the controller publishes them (its remote IP bindings; absent: none). */
  | { kind: 'fdb:set'; vni: number; mac: number; vtep: Vtep; seq: number; static?: boolean; ips?: readonly string[] }
  | { kind: 'fdb:del'; vni: number; mac: number }
  /** The complete flood list of a VNI (replaces the previous one). */
  | { kind: 'flood:set'; vni: number; vteps: Vtep[] }
  /** Peers known for a VNI, accepted as outer sources (replaces previous). */
  | { kind: 'peers:set'; vni: number; vteps: Vtep[] };

/**
 * Events the data path emits, `noun:verb` names. Those the frame loop causes
 * (learns, moves, evictions) are queued and delivered after their batch's
 * frames are out, in order; a listener that throws is counted
 * (listenerErrors) and costs no frame. Those apply() and the port calls cause
 * are delivered before the call returns.
 */
export interface DataPathEvents {
  /** A MAC was learned on (or moved to) a local port. seq is the mobility seq to report. */
  'mac:local': { vni: number; mac: number; port: string; seq: number };
  /** A local MAC aged out or its port was removed. */
  'mac:gone': { vni: number; mac: number; port: string };
  /**
   * A local port's frame bound an IP to one of its MACs (ARP, GARP, NS, NA),
   * new or taken over from a MAC that was no longer live; `ip` is canonical
   * text. A refresh of the same binding is not an event.
   */
  'ip:bound': { vni: number; mac: number; ip: string; port: string };
  /** A MAC moved (local↔remote or remote↔remote). */
  'mac:move': { vni: number; mac: number; from: string; to: string };
  /**
   * A tunnel frame claimed a MAC the control plane places elsewhere, and the
   * claim did not stand: `reverted` (moved provisionally, not confirmed in
   * time) or `held` (a local port saw the MAC recently). `home` is where the
   * MAC stays: a local port, or the controller's VTEP.
   */
  'mac:conflict': {
    vni: number;
    mac: number;
    claimedBy: string;
    home: string;
    homeKind: 'port' | 'vtep';
    outcome: 'reverted' | 'held';
  };
  /**
   * A port's device can no longer be read: deleted under us (code
   * DVS_DEVICE_GONE: the VM quit, the pod died) or failing. The data path
   * stopped reading it; the port stays until its owner removes it.
   */
  'port:gone': { port: string; code: string; message: string };
}

/** A change apply() refused: its place in the batch, its kind and why. */
export interface RejectedChange {
  index: number;
  kind: string;
  reason: string;
}

/** What apply() did: every change (applied = changes.length, rejected empty), or none. */
export interface ApplyResult {
  applied: number;
  rejected: RejectedChange[];
}

export interface ControlSurface {
  /**
   * Applies a batch of changes whole or not at all: every change is validated
   * first (in order, against the networks the batch itself sets and deletes);
   * when one is invalid nothing changes, the invalid ones are counted
   * (rejectedChanges) and returned with the reason. Never throws. Runs
   * synchronously, so the frame loop never sees half a batch.
   */
  apply(changes: readonly TableChange[]): ApplyResult;
  /**
   * The digests of one VNI's tables as the data path holds them (control FDB
   * entries, flood list, accepted sources; table-digest.ts), kept up to date
   * as changes are applied; null when it has no such network.
   */
  tableDigest?(vni: number): VniDigest | null;
  /** Its control FDB entries, MAC text → VTEP (read only when a digest disagrees). */
  controlEntries?(vni: number): Map<string, VtepRecord> | null;
}

/**
 * Tunnel-health hook (see probe.ts for the full contract). On the DataPath:
 *  - `setProbeHandler(handler | null)`: decapsulated frames with destination
 *    PROBE_MAC (02:64:76:73:00:01) and EtherType PROBE_ETHERTYPE (0x88b5),
 *    from a known VTEP of their VNI, go to `handler(peer, vni, frame)` instead
 *    of being switched (the frame view is valid only during the call).
 *  - `sendProbe({ vtep, encap, vni }, frame)`: sends one frame to a VTEP in the
 *    given encapsulation over the same socket as VM traffic; false when it
 *    could not (then `lastProbeSendError()` says why: an errno symbol).
 */
export { PROBE_ETHERTYPE, PROBE_MAC } from './probe.js';
export type { ProbeHandler, ProbeTarget } from './probe.js';
