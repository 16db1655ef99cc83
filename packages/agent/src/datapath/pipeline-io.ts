/**
 * The pipeline's outputs and witnesses: the socket target of an encap, the
 * listener of MAC events and the tracer of a dry run (see pipeline.ts).
 */
import type { PacketBatch, TunnelSocket } from '@dvs/netdev';
import { innerFlowHash, type Encap } from '@dvs/wire';
import type { DropReason } from './counters.js';
import type { FdbEntry, FdbLocation, LearnResult } from './fdb.js';
import type { NetworkState } from './network.js';
import type { Peer } from './peer.js';
import type { Port } from './port.js';
import { TxQueue, type TxSink } from './tx-queue.js';
import type { BindingListener } from './arp-responder.js';

/** Bytes kept free in front of every frame: a tunnel header (8) plus an 802.1Q tag (4), rounded up. */
export const HEADROOM = 64;

/** Addresses slot `i` to the peer (IPv4 number or IPv6 bytes: copied, nothing allocated). */
export function setDestination(batch: PacketBatch, i: number, peer: Peer): void {
  if (peer.family === 4) batch.setIpv4Destination(i, peer.ipv4, peer.port);
  else batch.setIpv6Destination(i, peer.ipv6 as Uint8Array, peer.port);
}

/**
 * An encap's socket as an output target. When the socket has a source-port
 * pool, each frame's outer source port is a hash of its inner flow mapped
 * onto the pool (RFC 7348 §5, RFC 8086 §3.2): one flow, one port; many flows,
 * spread over the pool. Probes are sent elsewhere and leave from the tunnel
 * port itself.
 */
export class SocketTarget implements TxSink {
  readonly tx: TxQueue;
  private readonly pool: readonly number[];
  constructor(
    readonly encap: Encap,
    readonly socket: TunnelSocket,
    refCapacity: number,
    copyCapacity: number,
  ) {
    this.tx = new TxQueue(refCapacity, copyCapacity);
    this.pool = socket.sourcePorts ?? [];
  }

  /** The UDP source port slot i leaves from (after stampSourcePort). */
  sourcePortOf(batch: PacketBatch, i: number): number {
    return this.pool.length === 0 ? this.socket.localPort : batch.sourcePort[i];
  }

  /** Sets slot i's source port from the inner frame after its tunnel header (no allocation). */
  stampSourcePort(batch: PacketBatch, i: number, headerLength: number): void {
    const pool = this.pool;
    if (pool.length === 0) return;
    const hash = innerFlowHash(batch.buffer, batch.start(i) + headerLength, batch.lengths[i] - headerLength);
    batch.sourcePort[i] = pool[hash % pool.length];
  }
  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.socket.send(batch, slots, n);
  }
}

/**
 * What the pipeline reports up (learns, moves, losses of local MACs); called
 * rarely, never per frame. The DataPath only queues these: its listeners run
 * after the batch (see DataPath.deliverEvents).
 */
export interface PipelineListener extends BindingListener {
  learnedLocal(net: NetworkState, mac: number, port: Port, seq: number, movedFrom: FdbLocation | null): void;
  learnedRemote(net: NetworkState, mac: number, peer: Peer, movedFrom: FdbLocation | null): void;
  evicted(net: NetworkState, mac: number, location: FdbLocation): void;
  /**
   * A learn conflict: a tunnel claim on a MAC a local port holds (Held), or a
   * provisional move its home contradicted (Reclaimed).
   */
  conflict(net: NetworkState, entry: FdbEntry, claimant: Peer, outcome: 'held' | 'reverted'): void;
}

/**
 * The witness of a dry run (`trace`, see trace.ts), as OVS's ofproto/trace
 * runs the real translation: with a tracer set, the pipeline switches a frame
 * by the very same steps, but it counts no drop, every learn is taken back,
 * and the output goes to the tracer instead of the devices. No listener hears
 * of it. Each call says what one step decided.
 */
export interface PipelineTracer {
  /** Step 2: the VNI the frame was classified into. */
  classified(vni: number): void;
  /**
   * Step 4: what learning the source did; `before` is the entry as it was,
   * `after` as the learn left it; `undo` takes the learn back (the tracer
   * calls it when the run is over).
   */
  learned(
    result: LearnResult,
    before: { location: FdbLocation; seq: number; isStatic: boolean } | null,
    after: FdbEntry | undefined,
    undo: () => void,
  ): void;
  /** Step 5: the destination's FDB entry; undefined for a group address or a miss. */
  lookedUp(entry: FdbEntry | undefined): void;
  /** A drop, with the counter that would count it. */
  dropped(reason: DropReason): void;
  /** Step 8: one frame the flush would hand to a port's device or an encap's socket, as it stands in `batch`. */
  output(target: Port | SocketTarget, batch: PacketBatch, slot: number, peer: Peer | null): void;
}
