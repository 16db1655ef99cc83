import type { Encap } from '@dvs/wire';
import type { NetworkSpec } from './control-surface.js';
import type { FdbCounters } from './counters.js';
import { Fdb, type FdbOptions } from './fdb.js';
import { FloodList } from './flood-list.js';
import { IpBindings } from './ip-bindings.js';
import { ipv6EqualsAt, ipv6HashAt, type Peer } from './peer.js';
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
  /** IP → MAC bindings (ARP/ND suppression, ip-bindings.ts). */
  readonly bindings: IpBindings;
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
    this.bindings = new IpBindings(this.fdb);
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
    for (const p of this.knownVteps.all()) if (!next.has(p)) gone.push(p);
    this.knownVteps = next;
    return gone;
  }
}

/**
 * Peers by source address. IPv4: keyed by the address's two 16-bit halves so
 * a lookup allocates nothing (an address above 2^30 as a Map key would be
 * boxed on every call). IPv6: keyed by a small-integer hash of the 16 bytes,
 * then compared byte by byte. When two peers share an address (different
 * ports), the first added owns received packets.
 */
export class KnownVteps {
  private readonly v4 = new Map<number, Map<number, Peer>>();
  private readonly v6 = new Map<number, Peer[]>();
  private readonly list: Peer[] = [];

  add(peer: Peer): void {
    if (peer.family === 4) {
      const high = peer.ipv4 >>> 16;
      let inner = this.v4.get(high);
      if (inner === undefined) this.v4.set(high, (inner = new Map()));
      if (inner.has(peer.ipv4 & 0xffff)) return;
      inner.set(peer.ipv4 & 0xffff, peer);
    } else {
      const bucket = this.v6.get(peer.ipv6Hash) ?? [];
      if (bucket.some((p) => ipv6EqualsAt(p.ipv6 as Uint8Array, peer.ipv6 as Uint8Array, 0))) return;
      this.v6.set(peer.ipv6Hash, [...bucket, peer]);
    }
    this.list.push(peer);
  }

  /** The peer at an IPv4 address (as an unsigned 32-bit number). Not for the hot path: see getHalves. */
  get(ipv4: number): Peer | undefined {
    return this.getHalves(ipv4 >>> 16, ipv4 & 0xffff);
  }

  /**
   * The peer at the IPv4 address whose upper and lower 16 bits are `high` and
   * `low`: the hot path's lookup. An address above 2^30 is no small integer,
   * and passed whole into a call it is boxed: one heap number per packet.
   */
  getHalves(high: number, low: number): Peer | undefined {
    const inner = this.v4.get(high);
    return inner === undefined ? undefined : inner.get(low);
  }

  /** The peer at the IPv6 address stored as 16 bytes at `off` of `bytes` (a batch's ipv6 array). */
  getV6(bytes: Uint8Array, off: number): Peer | undefined {
    const bucket = this.v6.get(ipv6HashAt(bytes, off));
    if (bucket === undefined) return undefined;
    for (let k = 0; k < bucket.length; k++)
      if (ipv6EqualsAt(bucket[k].ipv6 as Uint8Array, bytes, off)) return bucket[k];
    return undefined;
  }

  /** Whether `peer` owns its address here. */
  has(peer: Peer): boolean {
    return (peer.family === 4 ? this.get(peer.ipv4) : this.getV6(peer.ipv6 as Uint8Array, 0)) === peer;
  }

  all(): readonly Peer[] {
    return this.list;
  }
}
