/**
 * A TAP opened with offloads, as the pipeline sees it: plain frames both
 * ways. The guest side may hand over TCP super-frames (TSO, up to 64 KiB) and
 * frames with partial checksums behind a virtio-net header; read() cuts each
 * super-frame into MTU-sized segments with @dvs/wire's segmentation, straight
 * into the caller's slots at its headroom (no per-frame allocation), finishes
 * partial checksums, and drops (and counts) a header that does not decode.
 * The segments of one super-frame are one flow to one destination, so the
 * tunnel socket sends them as one UDP GSO message. write() coalesces
 * consecutive TCP segments of a flow into super-frames and writes the rest
 * behind an all-zero header (CoalescingTapWriter); with `coalesce: false`
 * (an attached device of an agent with offloads off) it writes every frame
 * plain behind an all-zero header.
 *
 * What a TAP reads in one call is kept here until the caller's batch has room
 * for it: a super-frame whose segments do not fit the rest of the batch waits
 * for the next read() (the data path reads again while batches come back full).
 */
import { PacketBatch, SUPER_FRAME_SLOT_BYTES } from '@dvs/netdev';
import type { FrameDevice, FrameDeviceStats, FrameOffloads } from '@dvs/netdev';
import {
  StridedSlots,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VirtioNetHeader,
  completePartialChecksum,
  decodeVirtioNetHeader,
  isGsoHeader,
  segmentSuperFrame,
} from '@dvs/wire';
import { CoalescingTapWriter } from './coalescing-tap-writer.js';

/** The TAP operations this needs (TapDevice has them). */
export interface HeaderTap extends FrameDevice {
  readonly offloads: FrameOffloads;
  writeHeaderless(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
}

/** What the offload edge of a port did (`dvs agent ports` shows them with the port). */
export interface OffloadCounters {
  /** Super-frames read from the TAP and segmented. */
  superFrames: number;
  /** Segments cut from them. */
  segments: number;
  /** Frames whose partial checksum (NEEDS_CSUM) was finished here. */
  checksumsCompleted: number;
  /** Frames whose virtio-net header did not decode: dropped. */
  badHeaders: number;
  /** Super-frames that could not be segmented (bad layout, or more segments than a batch holds): dropped. */
  unsegmentable: number;
}

/** Super-frames one TAP read takes. */
const INPUT_SLOTS = 16;

export function hasHeaders(device: FrameDevice): device is HeaderTap {
  return (
    (device.offloads?.vnetHeaderLength ?? 0) > 0 && typeof (device as Partial<HeaderTap>).writeHeaderless === 'function'
  );
}

export class SegmentingPortDevice implements FrameDevice {
  readonly counters: OffloadCounters = {
    superFrames: 0,
    segments: 0,
    checksumsCompleted: 0,
    badHeaders: 0,
    unsegmentable: 0,
  };
  private readonly input = new PacketBatch(INPUT_SLOTS, SUPER_FRAME_SLOT_BYTES);
  private readonly header = new VirtioNetHeader();
  private readonly slots = new StridedSlots(1024);
  private readonly headerLength: number;
  /** Frames input[next..count-1] are read and not yet handed out. */
  private next = 0;
  private count = 0;
  private handler: (() => void) | null = null;
  private drainScheduled = false;
  private readonly drain = (): void => {
    this.handler?.();
    if (this.next < this.count && this.handler !== null && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drainLater);
    }
  };
  private readonly drainLater = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  /** The receive half: coalescing into super-frames (coalescing-tap-writer.ts). */
  readonly writer: CoalescingTapWriter;

  constructor(
    readonly tap: HeaderTap,
    options: { coalesce?: boolean } = {},
  ) {
    this.headerLength = tap.offloads.vnetHeaderLength;
    this.writer = new CoalescingTapWriter(tap, options.coalesce ?? true);
  }

  get name(): string {
    return this.tap.name;
  }

  get mtu(): number {
    return this.tap.mtu;
  }

  get stats(): FrameDeviceStats | undefined {
    return this.tap.stats;
  }

  /** What the TAP took and refused (the pipeline itself only ever sees plain frames). */
  get tapOffloads(): FrameOffloads {
    return this.tap.offloads;
  }

  read(batch: PacketBatch, headroom: number): number {
    let used = 0;
    const input = this.input;
    const h = this.headerLength;
    // The TAP reads until it has nothing more or the input is full; fewer
    // than the input holds means it was empty a moment ago, and another read
    // would cost a system call to say so (a frame that comes after wakes the
    // loop again: readiness is level-triggered).
    let drained = false;
    while (used < batch.capacity) {
      if (this.next === this.count) {
        if (drained) break;
        this.next = 0;
        this.count = 0;
        this.count = this.tap.read(input, 0);
        if (this.count === 0) break;
        drained = this.count < input.capacity;
      }
      const start = input.start(this.next);
      const length = input.lengths[this.next];
      const header = decodeVirtioNetHeader(input.buffer, start, length, h, this.header);
      if (!header.ok) {
        this.counters.badHeaders++;
        this.next++;
        continue;
      }
      if (!isGsoHeader(header)) {
        const frame = length - h;
        if (headroom + frame > batch.slotSize) {
          this.counters.unsegmentable++;
          this.next++;
          continue;
        }
        const at = used * batch.slotSize + headroom;
        input.buffer.copy(batch.buffer, at, start + h, start + length);
        if ((header.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
          completePartialChecksum(batch.buffer, at, frame, header);
          this.counters.checksumsCompleted++;
        }
        batch.offsets[used] = headroom;
        batch.lengths[used] = frame;
        used++;
        this.next++;
        continue;
      }
      this.slots.aim(batch.buffer, used * batch.slotSize, batch.slotSize, batch.capacity - used);
      const cut = segmentSuperFrame(input.buffer, start + h, length - h, header, this.slots, headroom);
      if (typeof cut !== 'number') {
        // Too many segments for what is left of the batch: it waits for the next read().
        if (cut === 'too-many-segments' && used > 0) break;
        this.counters.unsegmentable++;
        this.next++;
        continue;
      }
      for (let k = 0; k < cut; k++) {
        batch.offsets[used + k] = headroom;
        batch.lengths[used + k] = this.slots.lengths[k];
      }
      used += cut;
      this.counters.superFrames++;
      this.counters.segments += cut;
      this.next++;
    }
    return used;
  }

  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.writer.write(batch, slots, n);
  }

  /**
   * The TAP's readiness, plus one more turn while frames read from the TAP
   * are still held here (the TAP itself may have nothing more to say).
   */
  onReadable(handler: (() => void) | null): void {
    this.handler = handler;
    this.tap.onReadable(handler === null ? null : this.drain);
  }

  onWritable(handler: (() => void) | null): void {
    this.tap.onWritable?.(handler);
  }

  close(): void {
    this.handler = null;
    this.tap.close();
  }
}
