// Where segmentation writes its segments. The segmenter asks a SegmentSlots
// for one slot per segment and leaves `headroom` bytes free at the start of
// each (for the tunnel header, written in place afterwards). Two layouts are
// given here; a caller's own batch type can implement the interface too.

/**
 * The segmenter's output. Contract: slots do not overlap one another; the
 * segmenter calls reserve() once, then for each segment reads buffer/start/
 * capacity, writes the segment at start(i) + headroom and calls commit()
 * (segments are written last to first, so that in-place layouts work).
 */
export interface SegmentSlots {
  /**
   * `count` segments are coming, each `headroom` + `segmentLength` bytes
   * (headers + gso_size; the last may be shorter). Return false when they do
   * not fit: the super-frame is then refused whole, nothing written.
   */
  reserve(count: number, headroom: number, segmentLength: number): boolean;
  /** The buffer holding slot i. */
  buffer(index: number): Uint8Array;
  /** Absolute offset of slot i in buffer(i). */
  start(index: number): number;
  /** Bytes available in slot i from start(i). */
  capacity(index: number): number;
  /** Slot i now holds a frame of `length` bytes at start(i) + headroom. */
  commit(index: number, length: number): void;
}

/** Fixed-size slots at a fixed stride in one buffer: the shape of a PacketBatch. Re-aim with aim(); no allocation. */
export class StridedSlots implements SegmentSlots {
  /** Frame length committed per slot. */
  readonly lengths: Uint32Array;
  private buf: Uint8Array;
  private first = 0;
  private stride = 0;
  private available = 0;
  /** How many slots the last reserve() asked for. */
  count = 0;

  constructor(maxSlots: number) {
    this.lengths = new Uint32Array(maxSlots);
    this.buf = new Uint8Array(0);
  }

  /** Offers `slots` slots of `stride` bytes at buf[first + i × stride]. */
  aim(buf: Uint8Array, first: number, stride: number, slots: number): void {
    this.buf = buf;
    this.first = first;
    this.stride = stride;
    this.available = Math.min(slots, this.lengths.length);
    this.count = 0;
  }

  reserve(count: number, headroom: number, segmentLength: number): boolean {
    if (count > this.available || headroom + segmentLength > this.stride) return false;
    this.count = count;
    return true;
  }

  buffer(): Uint8Array {
    return this.buf;
  }

  start(index: number): number {
    return this.first + index * this.stride;
  }

  capacity(index: number): number {
    return Math.min(this.stride, this.buf.length - this.start(index));
  }

  commit(index: number, length: number): void {
    this.lengths[index] = length;
  }
}

/**
 * Segments back to back from buf[first], each slot exactly headroom +
 * headers + gso_size long (the last shorter): the layout one UDP GSO send
 * takes (gso_size = `stride`), and, with first = the super-frame's offset −
 * headroom in its own buffer, segmentation in place. Re-aim with aim().
 */
export class PackedSlots implements SegmentSlots {
  private buf: Uint8Array;
  private first = 0;
  private end = 0;
  /** Bytes from one slot's start to the next: headroom + headers + gso_size. Set by reserve(). */
  stride = 0;
  /** Segments written by the last segmentation. */
  count = 0;
  /** Length of the last segment's frame (the others are stride − headroom). */
  lastLength = 0;
  private headroom = 0;
  private maxCount = 0;

  constructor() {
    this.buf = new Uint8Array(0);
  }

  /**
   * Offers buf[first, end) for at most `maxCount` segments (one UDP GSO send
   * takes at most 64: the kernel's UDP_MAX_SEGMENTS).
   */
  aim(buf: Uint8Array, first: number, end: number, maxCount = Number.MAX_SAFE_INTEGER): void {
    this.buf = buf;
    this.first = first;
    this.end = Math.min(end, buf.length);
    this.maxCount = maxCount;
    this.stride = 0;
    this.count = 0;
    this.lastLength = 0;
  }

  /** Bytes the segments and their headroom occupy from `first` (what one UDP GSO send carries). */
  get totalLength(): number {
    return this.count === 0 ? 0 : (this.count - 1) * this.stride + this.headroom + this.lastLength;
  }

  reserve(count: number, headroom: number, segmentLength: number): boolean {
    const stride = headroom + segmentLength;
    if (count > this.maxCount || !(this.first >= 0) || this.first + (count - 1) * stride > this.end) return false;
    this.headroom = headroom;
    this.stride = stride;
    this.count = count;
    return true;
  }

  buffer(): Uint8Array {
    return this.buf;
  }

  start(index: number): number {
    return this.first + index * this.stride;
  }

  capacity(index: number): number {
    return Math.max(0, Math.min(this.stride, this.end - this.start(index)));
  }

  commit(index: number, length: number): void {
    if (index === this.count - 1) this.lastLength = length;
  }
}
