/**
 * The receive half of a TAP port with offloads: frames the pipeline writes to
 * the port (segments from a VTEP, mostly) go through @dvs/wire's TcpCoalescer,
 * which glues consecutive in-order segments of one TCP flow into a super-frame
 * behind a GSO_TCPV4/GSO_TCPV6 virtio-net header; the TAP takes it in one
 * write, and the VM's stack receives one packet for ~45. Anything that cannot
 * be coalesced (other protocols, out of order, PSH/FIN ending a run, a bad
 * checksum) is written unchanged behind an all-zero header, in push order.
 *
 * Without coalescing (`coalesce` false: an attached device of an agent with
 * offloads off), every frame is written plain behind an all-zero header, and
 * nothing is reserved for coalescing (superFrameBytes 0; with it, ~0.5 MiB).
 *
 * A write the TAP refuses for want of room (EAGAIN) is not retried: the
 * frames are dropped and counted (`writeDrops`), as a full tun ring drops
 * them; TCP recovers. Everything here is preallocated.
 */
import { PacketBatch } from '@dvs/netdev';
import { COALESCE_FULL, TcpCoalescer, type CoalescedFrameSink } from '@dvs/wire';
import type { HeaderTap } from './segmenting-port-device.js';

/** Frames pushed between two flushes: the most one write() takes in one go. */
const MAX_FRAMES = 256;
/** Super-frames built per flush. */
const SUPER_FRAMES = 8;
/** An IPv4/IPv6 super-frame: header, Ethernet with a tag, 64 KiB of IP. */
const superSlotBytes = (headerLength: number): number => headerLength + 18 + 65535;

export interface CoalescingCounters {
  /** Super-frames written to the TAP. */
  coalesced: number;
  /** Frames merged into them. */
  coalescedSegments: number;
  /** Frames (plain or merged) the TAP had no room for: dropped. */
  writeDrops: number;
}

/** What coalescing holds: the coalescer, the super-frames it builds, and the flush order. */
class Coalescing {
  readonly coalescer: TcpCoalescer;
  readonly superBatch: PacketBatch;
  /** flush() order: kind 0 = the source slot as it is, 1 = a super-frame slot. */
  readonly orderKind = new Uint8Array(MAX_FRAMES);
  readonly orderSlot = new Uint32Array(MAX_FRAMES);
  readonly orderSegments = new Uint32Array(MAX_FRAMES);
  orderLength = 0;
  readonly sink: CoalescedFrameSink;

  constructor(headerLength: number) {
    this.superBatch = new PacketBatch(SUPER_FRAMES, superSlotBytes(headerLength));
    this.coalescer = new TcpCoalescer({
      maxFrames: MAX_FRAMES,
      maxSuperFrames: SUPER_FRAMES,
      headerLength,
      storage: this.superBatch.buffer,
    });
    const slotSize = this.superBatch.slotSize;
    this.sink = {
      frame: (index) => this.order(0, index, 1),
      superFrame: (_index, _buf, off, length, segments) => {
        const slot = Math.floor(off / slotSize);
        this.superBatch.offsets[slot] = off - slot * slotSize;
        this.superBatch.lengths[slot] = length;
        this.order(1, slot, segments);
      },
    };
  }

  private order(kind: number, slot: number, segments: number): void {
    const k = this.orderLength++;
    this.orderKind[k] = kind;
    this.orderSlot[k] = slot;
    this.orderSegments[k] = segments;
  }
}

export class CoalescingTapWriter {
  readonly counters: CoalescingCounters = { coalesced: 0, coalescedSegments: 0, writeDrops: 0 };
  /** null without coalescing: nothing reserved for it. */
  private readonly coalescing: Coalescing | null;
  private readonly run = new Uint32Array(MAX_FRAMES);

  constructor(
    private readonly tap: HeaderTap,
    coalesce = true,
  ) {
    this.coalescing = coalesce ? new Coalescing(tap.offloads.vnetHeaderLength) : null;
  }

  /** Bytes of super-frame storage this writer holds: 0 without coalescing. */
  get superFrameBytes(): number {
    return this.coalescing === null ? 0 : this.coalescing.superBatch.buffer.length;
  }

  /** Writes slots[0..n-1] of `batch` (plain frames); returns n: every frame is written or counted as dropped. */
  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    const c = this.coalescing;
    if (c === null) {
      this.counters.writeDrops += n - this.tap.writeHeaderless(batch, slots, n);
      return n;
    }
    let i = 0;
    while (i < n) {
      let pushed = 0;
      while (i < n && pushed < MAX_FRAMES) {
        const s = slots[i];
        if (c.coalescer.push(batch.buffer, batch.start(s), batch.lengths[s], 0, s) === COALESCE_FULL) break;
        pushed++;
        i++;
      }
      if (pushed === 0) {
        // Nothing fits even after a flush: the frame goes as it is.
        this.run[0] = slots[i++];
        this.counters.writeDrops += 1 - this.tap.writeHeaderless(batch, this.run, 1);
        continue;
      }
      c.orderLength = 0;
      c.coalescer.flush(c.sink);
      this.writeInOrder(c, batch);
    }
    return n;
  }

  /** Runs of plain frames and of super-frames, in flush order. */
  private writeInOrder(c: Coalescing, batch: PacketBatch): void {
    for (let k = 0; k < c.orderLength;) {
      const kind = c.orderKind[k];
      let length = 0;
      while (k + length < c.orderLength && c.orderKind[k + length] === kind) {
        this.run[length] = c.orderSlot[k + length];
        length++;
      }
      const written =
        kind === 0 ? this.tap.writeHeaderless(batch, this.run, length) : this.tap.write(c.superBatch, this.run, length);
      if (kind === 1) {
        for (let j = 0; j < written; j++) this.counters.coalescedSegments += c.orderSegments[k + j];
        this.counters.coalesced += written;
      }
      if (written < length) {
        let lost = 0;
        for (let j = written; j < length; j++) lost += c.orderSegments[k + j];
        this.counters.writeDrops += lost;
      }
      k += length;
    }
  }
}
