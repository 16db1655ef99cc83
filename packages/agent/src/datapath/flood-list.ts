import type { Peer } from './peer.js';

/**
 * The flood list of one VNI: the VTEPs that take one head-end copy of every
 * broadcast, unknown-unicast and multicast frame that enters the VNI on a
 * local port. Frames that arrived from a tunnel are never flooded back into
 * tunnels (split horizon: every VTEP got its own copy from the source).
 *
 * The list is replaced whole (`flood:set`), kept as a plain array so the hot
 * path iterates it without allocating.
 */
export class FloodList {
  private list: Peer[] = [];

  get peers(): readonly Peer[] {
    return this.list;
  }

  /** Replaces the list (the caller passes distinct peers); returns the old list (for the registry to release). */
  replace(peers: Peer[]): Peer[] {
    const old = this.list;
    this.list = peers;
    return old;
  }

  has(peer: Peer): boolean {
    return this.list.includes(peer);
  }
}
