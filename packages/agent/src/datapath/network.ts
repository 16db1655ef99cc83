import type { Encap } from '@dvs/wire';
import type { NetworkSpec } from './control-surface.js';
import type { FdbCounters } from './counters.js';
import { Fdb, type FdbOptions } from './fdb.js';
import { FloodList } from './flood-list.js';
import { IpBindings } from './ip-bindings.js';
import { ipv6EqualsAt, ipv6HashAt, type Peer } from './peer.js';
import type { PortMember } from './port.js';
import { NetworkDigest } from './table-digest.js';

/**
 * Everything the data path keeps for one VNI: its spec (encap, MTU), its FDB,
 * its flood list, its peers, the local ports that belong to it, and the set
 * of VTEPs accepted as outer sources.
 *
 * Known VTEPs (by address) = peers ∪ flood list ∪ VTEPs named by control FDB
 * entries. Each of those holds one reference on its VTEP here
 * (`addSource`/`removeSource`); a VTEP is known while it has one. So one FDB
 * change costs O(1) however large the VNI, and a resync of N entries O(N)
 * (control-plane rate, never per frame).
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
  /** Accepted outer sources, by address. */
  readonly knownVteps = new KnownVteps();
  /** Digests of the control entries, flood list and sources (table-digest.ts), kept as they change. */
  readonly digest = new NetworkDigest();
  /** References on each known VTEP (peers list, flood list, control entries). */
  private readonly sourceRefs = new Map<Peer, number>();

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

  /** One more reference on `peer` as an accepted source. */
  addSource(peer: Peer): void {
    const n = this.sourceRefs.get(peer) ?? 0;
    this.sourceRefs.set(peer, n + 1);
    if (n === 0) {
      this.knownVteps.add(peer);
      this.digest.sourceAdded(peer);
    }
  }

  /** One reference less; true when `peer` is no longer a known VTEP (its learned entries must go). */
  removeSource(peer: Peer): boolean {
    const n = this.sourceRefs.get(peer);
    if (n === undefined) return false;
    if (n > 1) {
      this.sourceRefs.set(peer, n - 1);
      return false;
    }
    this.sourceRefs.delete(peer);
    this.knownVteps.remove(peer);
    this.digest.sourceRemoved(peer);
    return true;
  }
}

/**
 * Peers by source address. IPv4: keyed by the address's two 16-bit halves so
 * a lookup allocates nothing (an address above 2^30 as a Map key would be
 * boxed on every call). IPv6: keyed by a small-integer hash of the 16 bytes,
 * then compared byte by byte. When two peers share an address (different
 * ports), the first added owns received packets; when it goes, the next one.
 */
export class KnownVteps {
  private readonly v4 = new Map<number, Map<number, Peer>>();
  private readonly v6 = new Map<number, Peer[]>();
  /** Peers at an address another peer owns (other ports), waiting to own it: rare. */
  private readonly waiting = new Map<string, Peer[]>();
  private readonly peers = new Set<Peer>();

  add(peer: Peer): void {
    if (this.peers.has(peer)) return;
    this.peers.add(peer);
    const owner = this.ownerOf(peer);
    if (owner !== undefined) {
      this.waiting.set(peer.address, [...(this.waiting.get(peer.address) ?? []), peer]);
      return;
    }
    this.own(peer);
  }

  remove(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    const queue = this.waiting.get(peer.address) ?? [];
    if (this.ownerOf(peer) !== peer) {
      const rest = queue.filter((p) => p !== peer);
      if (rest.length === 0) this.waiting.delete(peer.address);
      else this.waiting.set(peer.address, rest);
      return;
    }
    this.disown(peer);
    const next = queue.shift();
    if (queue.length === 0) this.waiting.delete(peer.address);
    if (next !== undefined) this.own(next);
  }

  private ownerOf(peer: Peer): Peer | undefined {
    return peer.family === 4 ? this.get(peer.ipv4) : this.getV6(peer.ipv6 as Uint8Array, 0);
  }

  private own(peer: Peer): void {
    if (peer.family === 4) {
      const high = peer.ipv4 >>> 16;
      let inner = this.v4.get(high);
      if (inner === undefined) this.v4.set(high, (inner = new Map()));
      inner.set(peer.ipv4 & 0xffff, peer);
    } else {
      this.v6.set(peer.ipv6Hash, [...(this.v6.get(peer.ipv6Hash) ?? []), peer]);
    }
  }

  private disown(peer: Peer): void {
    if (peer.family === 4) {
      const inner = this.v4.get(peer.ipv4 >>> 16);
      inner?.delete(peer.ipv4 & 0xffff);
      if (inner?.size === 0) this.v4.delete(peer.ipv4 >>> 16);
    } else {
      const bucket = (this.v6.get(peer.ipv6Hash) ?? []).filter((p) => p !== peer);
      if (bucket.length === 0) this.v6.delete(peer.ipv6Hash);
      else this.v6.set(peer.ipv6Hash, bucket);
    }
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
    return this.peers.has(peer) && this.ownerOf(peer) === peer;
  }

  /** Every known VTEP, owners and waiting ones. */
  all(): IterableIterator<Peer> {
    return this.peers.values();
  }

  get size(): number {
    return this.peers.size;
  }
}
