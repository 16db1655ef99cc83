import type { PacketBatch } from '@dvs/netdev';
import type { TrafficCounters } from './counters.js';
import type { Peer } from './peer.js';
import type { TokenBucket } from './token-bucket.js';

/** Where a TxQueue writes: a FrameDevice (write) or a TunnelSocket adapted to the same shape. */
export interface TxSink {
  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
}

/**
 * Pending output of one target (a port's device or an encap's socket) while a
 * batch is switched. Two slot lists, both preallocated:
 *  - refs: slots of the batch being switched (zero copy: known unicast, whose
 *    frame was rewritten in place for this one target);
 *  - copies: slots of the shared copy batch (flooded frames, one copy per
 *    target, rewritten per target).
 * flush() hands both to the device and resets. Frames a device refuses are
 * dropped and counted (tx-full), never queued.
 *
 * `refPeers`/`copyPeers` remember the peer of each tunnel slot so per-peer tx
 * counters count only what the socket took.
 */
export class TxQueue {
  readonly refs: Uint32Array;
  readonly copies: Uint32Array;
  readonly refPeers: (Peer | null)[];
  readonly copyPeers: (Peer | null)[];
  nRefs = 0;
  nCopies = 0;

  constructor(refCapacity: number, copyCapacity: number) {
    this.refs = new Uint32Array(refCapacity);
    this.copies = new Uint32Array(copyCapacity);
    this.refPeers = new Array<Peer | null>(refCapacity).fill(null);
    this.copyPeers = new Array<Peer | null>(copyCapacity).fill(null);
  }

  get pending(): boolean {
    return this.nRefs > 0 || this.nCopies > 0;
  }

  addRef(slot: number, peer: Peer | null): void {
    this.refPeers[this.nRefs] = peer;
    this.refs[this.nRefs++] = slot;
  }

  addCopy(slot: number, peer: Peer | null): void {
    this.copyPeers[this.nCopies] = peer;
    this.copies[this.nCopies++] = slot;
  }

  /**
   * Keeps only the frames `bucket` lets through (refs, then copies, in
   * order), compacting both lists in place; returns how many it dropped.
   */
  police(bucket: TokenBucket, source: PacketBatch, copyBatch: PacketBatch, now: number): number {
    const before = this.nRefs + this.nCopies;
    this.nRefs = policeList(bucket, source, this.refs, this.refPeers, this.nRefs, now);
    this.nCopies = policeList(bucket, copyBatch, this.copies, this.copyPeers, this.nCopies, now);
    return before - this.nRefs - this.nCopies;
  }

  /**
   * Writes refs from `source` then copies from `copyBatch` to `sink`, and
   * returns how many frames were refused. Tx counters of the sink (`counters`,
   * a port's) and of each slot's peer are updated here.
   */
  flush(source: PacketBatch, copyBatch: PacketBatch, sink: TxSink, counters: TrafficCounters | null): number {
    let refused = 0;
    if (this.nRefs > 0) refused += this.flushList(source, this.refs, this.refPeers, this.nRefs, sink, counters);
    if (this.nCopies > 0)
      refused += this.flushList(copyBatch, this.copies, this.copyPeers, this.nCopies, sink, counters);
    this.nRefs = 0;
    this.nCopies = 0;
    return refused;
  }

  private flushList(
    batch: PacketBatch,
    slots: Uint32Array,
    peers: (Peer | null)[],
    n: number,
    sink: TxSink,
    counters: TrafficCounters | null,
  ): number {
    let taken: number;
    try {
      taken = sink.write(batch, slots, n);
    } catch {
      // A closed or failing device must not stop the loop: count as refused.
      taken = 0;
    }
    for (let k = 0; k < n; k++) {
      const peer = peers[k];
      const bytes = batch.lengths[slots[k]];
      if (k < taken) {
        if (counters !== null) {
          counters.txFrames++;
          counters.txBytes += bytes;
        }
        if (peer !== null) {
          peer.counters.txFrames++;
          peer.counters.txBytes += bytes;
        }
      } else {
        if (counters !== null) counters.txDrops++;
        if (peer !== null) peer.counters.txDrops++;
      }
      peers[k] = null;
    }
    return n - taken;
  }
}

function policeList(
  bucket: TokenBucket,
  batch: PacketBatch,
  slots: Uint32Array,
  peers: (Peer | null)[],
  n: number,
  now: number,
): number {
  let kept = 0;
  for (let k = 0; k < n; k++) {
    if (!bucket.take(batch.lengths[slots[k]], now)) continue;
    peers[kept] = peers[k];
    slots[kept++] = slots[k];
  }
  for (let k = kept; k < n; k++) peers[k] = null;
  return kept;
}
