import type { Encap, NetworkSpec } from './control-surface.js';
import type { FdbCounters } from './counters.js';
import { Fdb, type FdbOptions } from './fdb.js';
import { FloodList } from './flood-list.js';
import type { Peer } from './peer.js';
import type { PortMember } from './port.js';

/**
 * Everything the data path keeps for one VNI: its spec (encap, MTU), its FDB,
 * its flood list, its peers, the local ports that belong to it, and the set
 * of VTEPs accepted as outer sources.
 *
 * Known VTEPs (by IPv4 address) = peers ∪ flood list ∪ VTEPs named by control
 * FDB entries. The set is rebuilt whenever one of them changes (control-plane
 * rate, never per frame).
 */
export class NetworkState {
  spec: NetworkSpec;
  readonly fdb: Fdb;
  readonly floodList = new FloodList();
  peers: Peer[] = [];
  /** Local ports of the VNI with their egress VLAN (-1: untagged). Rebuilt on port add/remove. */
  members: PortMember[] = [];
  /** MACs placed by control/static FDB entries, and the VTEP each names (accepted as sources). */
  readonly controlMacs = new Map<number, Peer>();
  /** Accepted outer sources: IPv4 address → peer. */
  knownVteps = new Map<number, Peer>();

  constructor(spec: NetworkSpec, counters: FdbCounters, fdbOptions: FdbOptions) {
    this.spec = spec;
    this.fdb = new Fdb(spec.vni, counters, fdbOptions);
  }

  get vni(): number {
    return this.spec.vni;
  }

  get encap(): Encap {
    return this.spec.encap;
  }

  /** Rebuilds knownVteps; returns the peers no longer known (their learned entries must go). */
  rebuildKnownVteps(): Peer[] {
    const next = new Map<number, Peer>();
    for (const p of this.peers) next.set(p.ipv4, p);
    for (const p of this.floodList.peers) next.set(p.ipv4, p);
    for (const p of this.controlMacs.values()) next.set(p.ipv4, p);
    const gone: Peer[] = [];
    for (const [ipv4, p] of this.knownVteps) if (next.get(ipv4) !== p) gone.push(p);
    this.knownVteps = next;
    return gone;
  }
}
