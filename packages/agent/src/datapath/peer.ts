import { formatIpAddress, parseIpAddress } from '@dvs/wire';
import type { Vtep } from './control-surface.js';
import { newTrafficCounters, type TrafficCounters } from './counters.js';

/**
 * A peer VTEP as the data path sees it: an underlay address — IPv4 as an
 * unsigned 32-bit number or IPv6 as 16 bytes, the forms PacketBatch slots
 * carry — and the UDP port its encap listens on. One object per
 * (address, port), shared by every VNI that names it, so its counters are per
 * peer. Addresses are kept in canonical text ("2001:db8::2"), so two
 * spellings of one address are one peer.
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
  /** Small-integer hash of the IPv6 address (lookup key); 0 for IPv4. */
  readonly ipv6Hash: number;

  constructor(
    readonly address: string,
    readonly family: 4 | 6,
    /** IPv4 as an unsigned 32-bit number; -1 for IPv6. */
    readonly ipv4: number,
    /** IPv6 bytes; null for IPv4. */
    readonly ipv6: Uint8Array | null,
    readonly port: number,
  ) {
    this.id = `${address}:${port}`;
    this.ipv6Hash = ipv6 === null ? 0 : ipv6HashAt(ipv6, 0);
  }

  get vtep(): Vtep {
    return { address: this.address, port: this.port };
  }
}

/** A small-integer hash of the 16 bytes at `off` (no allocation; collisions are resolved by comparing bytes). */
export function ipv6HashAt(b: Uint8Array, off: number): number {
  let h = 0;
  for (let k = 0; k < 16; k++) h = (h * 31 + b[off + k]) & 0x3fffffff;
  return h;
}

/** True when the 16 bytes at `off` of `b` are `addr`. */
export function ipv6EqualsAt(addr: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let k = 0; k < 16; k++) if (addr[k] !== b[off + k]) return false;
  return true;
}

/** Every peer known to the data path, by `address:port` (canonical address text). */
export class PeerRegistry {
  private readonly peers = new Map<string, Peer>();

  /** The peer for a VTEP, created on first use; null when the address is not IP text or the port is invalid. */
  acquire(vtep: Vtep): Peer | null {
    const canonical = canonicalVtep(vtep);
    if (canonical === null) return null;
    let peer = this.peers.get(canonical.id);
    if (peer === undefined) {
      const { parsed } = canonical;
      peer =
        parsed.family === 4
          ? new Peer(canonical.address, 4, parsed.ipv4, null, vtep.port)
          : new Peer(canonical.address, 6, -1, parsed.ipv6, vtep.port);
      this.peers.set(canonical.id, peer);
    }
    peer.refs++;
    return peer;
  }

  release(peer: Peer): void {
    if (--peer.refs <= 0) this.peers.delete(peer.id);
  }

  get(vtep: Vtep): Peer | undefined {
    const canonical = canonicalVtep(vtep);
    return canonical === null ? undefined : this.peers.get(canonical.id);
  }

  all(): IterableIterator<Peer> {
    return this.peers.values();
  }
}

/** True when `vtep` names an IP address and a UDP port 1..65535 (what acquire() accepts). */
export function isValidVtep(vtep: Vtep): boolean {
  return canonicalVtep(vtep) !== null;
}

function canonicalVtep(vtep: Vtep) {
  if (typeof vtep !== 'object' || vtep === null || typeof vtep.address !== 'string') return null;
  if (!Number.isInteger(vtep.port) || vtep.port < 1 || vtep.port > 65535) return null;
  const parsed = parseIpAddress(vtep.address);
  if (parsed === null) return null;
  const address = formatIpAddress(parsed);
  return { parsed, address, id: `${address}:${vtep.port}` };
}
