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
  /** Accepted outer sources, by IPv4 address. */
  knownVteps = new KnownVteps();

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
    const next = new KnownVteps();
    for (const p of this.peers) next.add(p);
    for (const p of this.floodList.peers) next.add(p);
    for (const p of this.controlMacs.values()) next.add(p);
    const gone: Peer[] = [];
    for (const p of this.knownVteps.all()) if (next.get(p.ipv4) !== p) gone.push(p);
    this.knownVteps = next;
    return gone;
  }
}

/**
 * Peers by IPv4 address, keyed by the address's two 16-bit halves so a
 * lookup allocates nothing (an address above 2^30 as a Map key would be
 * boxed on every call). When two peers share an address (different ports),
 * the first added wins as the owner of received packets.
 */
export class KnownVteps {
  private readonly table = new Map<number, Map<number, Peer>>();

  add(peer: Peer): void {
    const high = peer.ipv4 >>> 16;
    let inner = this.table.get(high);
    if (inner === undefined) this.table.set(high, (inner = new Map()));
    if (!inner.has(peer.ipv4 & 0xffff)) inner.set(peer.ipv4 & 0xffff, peer);
  }

  /** The peer at an IPv4 address (as an unsigned 32-bit number). */
  get(ipv4: number): Peer | undefined {
    const inner = this.table.get(ipv4 >>> 16);
    return inner === undefined ? undefined : inner.get(ipv4 & 0xffff);
  }

  *all(): IterableIterator<Peer> {
    for (const inner of this.table.values()) yield* inner.values();
  }
}
