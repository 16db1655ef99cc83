/**
 * The two ends of a tunnel with offloads, folded into one process for the
 * tests and the benchmark: frames read from one device with virtio-net
 * headers are cut into MTU-sized segments with @dvs/wire's real segmentation
 * (what the tunnel edge does before UDP), and, optionally, glued back into
 * super-frames with the real coalescer (what the far end does before its TAP),
 * then written to another device. No tunnel in between: the tests are about
 * the devices and headers, the offload code is @dvs/wire's.
 */
import {
  COALESCE_FULL,
  StridedSlots,
  TcpCoalescer,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VirtioNetHeader,
  clearVirtioNetHeader,
  completePartialChecksum,
  decodeVirtioNetHeader,
  isGsoHeader,
  segmentSuperFrame,
} from '@dvs/wire';
import { PacketBatch, SUPER_FRAME_SLOT_BYTES } from '../index.js';
import type { FrameDevice } from '../index.js';

export interface OffloadPathStats {
  /** Frames read from the source device (a super-frame counts once). */
  read: number;
  bytesRead: number;
  /** Reads that were super-frames (a GSO header). */
  superFrames: number;
  /** The longest frame read (without its header). */
  largestFrame: number;
  /** Segments cut from super-frames. */
  segments: number;
  /** Frames whose header did not decode or whose super-frame did not segment: dropped. */
  dropped: number;
  /** Frames and super-frames the destination took. */
  written: number;
  /** Super-frames the coalescer built and wrote. */
  coalesced: number;
}

const BATCH = 64;
const SEGMENT_STRIDE = 2048;
const COALESCE_SLOTS = 8;

/**
 * Forwards every frame from `from` to `to` unchanged (header and all). Both
 * must have the same header length. `stats.largestFrame` counts the header.
 */
export function forwardAsIs(
  from: FrameDevice,
  to: FrameDevice,
): { stats: Pick<OffloadPathStats, 'read' | 'bytesRead' | 'largestFrame' | 'written'>; stop: () => void } {
  const batch = new PacketBatch(BATCH, SUPER_FRAME_SLOT_BYTES + 64);
  const slots = Uint32Array.from({ length: BATCH }, (_, i) => i);
  const stats = { read: 0, bytesRead: 0, largestFrame: 0, written: 0 };
  from.onReadable(() => {
    for (let round = 0; round < 8; round++) {
      const n = from.read(batch, 64);
      for (let i = 0; i < n; i++) {
        stats.bytesRead += batch.lengths[i];
        if (batch.lengths[i] > stats.largestFrame) stats.largestFrame = batch.lengths[i];
      }
      stats.read += n;
      if (n > 0) stats.written += to.write(batch, slots, n);
      if (n < BATCH) return;
    }
  });
  return { stats, stop: () => from.onReadable(null) };
}

/**
 * Forwards from `from` to `to` (both with headers of `headerLength`): every
 * super-frame cut into segments (each behind an all-zero header), every
 * partial checksum finished, so that what `to` gets is what a host without
 * offloads would have sent; with `coalesce`, the segments go through a
 * TcpCoalescer first and `to` gets GSO super-frames again.
 */
export function forwardSegmenting(
  from: FrameDevice,
  to: FrameDevice,
  options: { coalesce: boolean },
): { stats: OffloadPathStats; stop: () => void } {
  const h = from.offloads?.vnetHeaderLength ?? 0;
  if (h === 0 || to.offloads?.vnetHeaderLength !== h) throw new Error('both devices need the same header length');
  const stats: OffloadPathStats = {
    read: 0,
    bytesRead: 0,
    superFrames: 0,
    largestFrame: 0,
    segments: 0,
    dropped: 0,
    written: 0,
    coalesced: 0,
  };
  const input = new PacketBatch(BATCH, SUPER_FRAME_SLOT_BYTES + 64);
  // Segments and plain frames, each behind an all-zero header: what the far end writes.
  const output = new PacketBatch(BATCH, SEGMENT_STRIDE);
  const outSlots = new Uint32Array(BATCH);
  const header = new VirtioNetHeader();
  const strided = new StridedSlots(BATCH);
  const coalescer = options.coalesce ? new CoalescingWriter(to, h, output) : null;
  let used = 0;

  const flush = (): void => {
    if (used === 0) return;
    if (coalescer !== null) stats.coalesced += coalescer.write(used);
    else for (let i = 0; i < used; i++) outSlots[i] = i;
    if (coalescer === null) stats.written += writeAll(to, output, outSlots, used);
    else stats.written += coalescer.lastWritten;
    used = 0;
  };
  /** Copies a plain frame (with its header) into the output, finishing a partial checksum. */
  const plain = (start: number, length: number): void => {
    if (used === BATCH) flush();
    const slot = used++;
    const at = slot * SEGMENT_STRIDE;
    if (length > SEGMENT_STRIDE) {
      stats.dropped++;
      used--;
      return;
    }
    input.buffer.copy(output.buffer, at, start, start + length);
    if ((header.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0)
      completePartialChecksum(output.buffer, at + h, length - h, header);
    clearVirtioNetHeader(output.buffer, at, h);
    output.offsets[slot] = 0;
    output.lengths[slot] = length;
  };

  from.onReadable(() => {
    for (let round = 0; round < 8; round++) {
      const n = from.read(input, 64);
      for (let i = 0; i < n; i++) {
        const start = input.start(i);
        const length = input.lengths[i];
        stats.read++;
        stats.bytesRead += length - h;
        stats.largestFrame = Math.max(stats.largestFrame, length - h);
        const decoded = decodeVirtioNetHeader(input.buffer, start, length, h, header);
        if (!decoded.ok) {
          stats.dropped++;
          continue;
        }
        if (!isGsoHeader(header)) {
          plain(start, length);
          continue;
        }
        stats.superFrames++;
        if (used + 64 > BATCH) flush();
        strided.aim(output.buffer, used * SEGMENT_STRIDE, SEGMENT_STRIDE, BATCH - used);
        const count = segmentSuperFrame(input.buffer, start + h, length - h, header, strided, h);
        if (typeof count !== 'number') {
          stats.dropped++;
          continue;
        }
        for (let k = 0; k < count; k++) {
          const slot = used + k;
          clearVirtioNetHeader(output.buffer, slot * SEGMENT_STRIDE, h);
          output.offsets[slot] = 0;
          output.lengths[slot] = h + strided.lengths[k];
        }
        used += count;
        stats.segments += count;
      }
      flush();
      if (n < BATCH) return;
    }
  });
  return { stats, stop: () => from.onReadable(null) };
}

/** Writes slots[0..n-1], retrying a short write once the device is writable again (a test must not lose frames). */
function writeAll(to: FrameDevice, batch: PacketBatch, slots: Uint32Array, n: number): number {
  let done = 0;
  for (let tries = 0; done < n && tries < 1000; tries++) {
    done += to.write(batch, slots.subarray(done), n - done);
  }
  return done;
}

/**
 * The far end's coalescing: segments (behind all-zero headers) pushed into a
 * TcpCoalescer whose super-frames are built in a PacketBatch of its own, then
 * written in push order, runs of plain frames and super-frames in turn.
 */
class CoalescingWriter {
  lastWritten = 0;
  private readonly coalescer: TcpCoalescer;
  private readonly superBatch: PacketBatch;
  private readonly order: { batch: PacketBatch; slot: number }[] = [];
  private readonly slots = new Uint32Array(BATCH);

  constructor(
    private readonly to: FrameDevice,
    private readonly h: number,
    private readonly output: PacketBatch,
  ) {
    this.superBatch = new PacketBatch(COALESCE_SLOTS, h + 18 + 65535);
    this.coalescer = new TcpCoalescer({
      maxFrames: BATCH,
      maxSuperFrames: COALESCE_SLOTS,
      headerLength: h,
      storage: this.superBatch.buffer,
    });
  }

  /** Coalesces output slots 0..n-1 and writes the result; returns the super-frames written. */
  write(n: number): number {
    const out = this.output;
    for (let i = 0; i < n; i++) {
      const start = out.start(i);
      if (this.coalescer.push(out.buffer, start + this.h, out.lengths[i] - this.h, 0, i) === COALESCE_FULL) {
        throw new Error('coalescer full: flush more often');
      }
    }
    this.order.length = 0;
    let built = 0;
    const slotSize = this.superBatch.slotSize;
    this.coalescer.flush({
      frame: (index) => this.order.push({ batch: out, slot: index }),
      superFrame: (_index, _buf, off, length) => {
        const slot = Math.floor(off / slotSize);
        this.superBatch.offsets[slot] = off - slot * slotSize;
        this.superBatch.lengths[slot] = length;
        this.order.push({ batch: this.superBatch, slot });
        built++;
      },
    });
    let written = 0;
    for (let i = 0; i < this.order.length;) {
      const batch = this.order[i].batch;
      let run = 0;
      while (i + run < this.order.length && this.order[i + run].batch === batch) {
        this.slots[run] = this.order[i + run].slot;
        run++;
      }
      written += writeAll(this.to, batch, this.slots, run);
      i += run;
    }
    this.lastWritten = written;
    return built;
  }
}
