import type { Vtep } from './control-surface.js';
import { newTrafficCounters, type TrafficCounters } from './counters.js';

/**
 * A peer VTEP as the data path sees it: an IPv4 underlay address (also as a
 * number, the form PacketBatch slots carry) and the UDP port its encap listens
 * on. One object per (address, port), shared by every VNI that names it, so
 * its counters are per peer.
 *
 * Received packets are matched by source address only: senders (the Linux
 * kernel among them) pick a per-flow source port, so the port of a peer is
 * where we send, not where it sends from.
 */
export class Peer {
  readonly id: string;
  readonly counters: TrafficCounters = newTrafficCounters();
  /** How many VNIs/entries reference it; the registry forgets it at 0. */
  refs = 0;

  constructor(
    readonly address: string,
    readonly ipv4: number,
    readonly port: number,
  ) {
    this.id = `${address}:${port}`;
  }

  get vtep(): Vtep {
    return { address: this.address, port: this.port };
  }
}

/** Parses dotted-quad IPv4 text into an unsigned 32-bit number, or -1. Not for the hot path. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const v = Number(p);
    if (v > 255) return -1;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Every peer known to the data path, by `address:port`. */
export class PeerRegistry {
  private readonly peers = new Map<string, Peer>();

  /** The peer for a VTEP, created on first use; null when the address is not IPv4 text or the port is invalid. */
  acquire(vtep: Vtep): Peer | null {
    const id = `${vtep.address}:${vtep.port}`;
    let peer = this.peers.get(id);
    if (peer === undefined) {
      const ipv4 = parseIpv4(vtep.address);
      if (ipv4 < 0 || !Number.isInteger(vtep.port) || vtep.port < 1 || vtep.port > 65535) return null;
      peer = new Peer(vtep.address, ipv4, vtep.port);
      this.peers.set(id, peer);
    }
    peer.refs++;
    return peer;
  }

  release(peer: Peer): void {
    if (--peer.refs <= 0) this.peers.delete(peer.id);
  }

  get(vtep: Vtep): Peer | undefined {
    return this.peers.get(`${vtep.address}:${vtep.port}`);
  }

  all(): IterableIterator<Peer> {
    return this.peers.values();
  }
}
