import { VirtioNetHeader, decodeVirtioNetHeader } from '@dvs/wire';
import type { PacketBatch } from '../packet-batch.js';
import { NO_OFFLOADS, TAP_OFFLOADS } from '../tap-offloads.js';
import type { FrameDevice, FrameDeviceStats, FrameOffloads } from '../types.js';
import { checkHeadroom, checkSlots } from '../slot-check.js';
import { FakeWatchedFd } from './fake-watched-fd.js';
import { zeroFrameDeviceStats } from '../frame-device-stats.js';

/**
 * An in-memory TAP for unit tests: honours every FrameDevice contract (see
 * types.ts) and passes the same compliance suite as the real TAP.
 *
 * The "other side" of a real TAP is the kernel; here it is the test or other
 * fake devices:
 *  - `inject(frame)` queues a frame as if the kernel had sent it to the VM side
 *    (it becomes readable with read());
 *  - frames the device's user write() go to every other device on the same
 *    FakeFrameHub (a pair is a hub of two); a device on no hub (or alone on it)
 *    keeps them for `takeWritten()`.
 *  - `writeBudget` simulates EAGAIN: write() takes at most that many more frames.
 *  - `linkUp = false` is an administratively down TAP: writes are dropped and counted.
 *  - the receive queue is bounded (`rxQueueLimit`); frames beyond it are dropped
 *    and counted, like a full TAP queue.
 *  - `vnetHeaderLength` 10 or 12 is a TAP opened with every offload: read()
 *    returns header + frame (inject() puts an all-zero header in front,
 *    injectWithHeader() takes header + frame as they are: a super-frame, a
 *    partial checksum); write() takes header + frame and refuses (counts in
 *    writeDropsInvalid) what @dvs/wire's decodeVirtioNetHeader refuses — a
 *    little stricter than the kernel, which lets unknown flags pass. A peer
 *    with offloads gets header + frame; one without, or takeWritten(), the
 *    frame alone (a super-frame as one frame: the fake does not segment).
 */
export interface FakeFrameDeviceOptions {
  name?: string;
  mtu?: number;
  /** Frames queued for read() beyond this are dropped and counted. Default 1024. */
  rxQueueLimit?: number;
  /** 0 (default): plain frames. 10 or 12: a TAP with every offload (see above). */
  vnetHeaderLength?: 0 | 10 | 12;
}

let fakeIndex = 0;

export class FakeFrameDevice extends FakeWatchedFd implements FrameDevice {
  readonly name: string;
  readonly stats: FrameDeviceStats = zeroFrameDeviceStats();
  /** Administrative link state, as `ip link set up/down`: a down device drops what is written to it. */
  linkUp = true;
  hub: FakeFrameHub | null = null;
  private readonly rxQueueLimit: number;
  private readonly rx: Buffer[] = [];
  private readonly written: Buffer[] = [];
  private readonly initialMtu: number;
  readonly offloads: FrameOffloads;
  private readonly headerLength: number;
  private readonly header = new VirtioNetHeader();

  constructor(options: FakeFrameDeviceOptions = {}) {
    super();
    this.name = options.name ?? `fake${fakeIndex++}`;
    this.initialMtu = options.mtu ?? 1500;
    this.rxQueueLimit = options.rxQueueLimit ?? 1024;
    const h = options.vnetHeaderLength ?? 0;
    if (h !== 0 && h !== 10 && h !== 12) throw new RangeError(`vnetHeaderLength must be 0, 10 or 12, got ${String(h)}`);
    this.headerLength = h;
    this.offloads =
      h === 0 ? NO_OFFLOADS : Object.freeze({ vnetHeaderLength: h, enabled: TAP_OFFLOADS, refused: Object.freeze([]) });
  }

  /** null: unlimited. A number: write() takes at most that many more frames, then reports EAGAIN. */
  get writeBudget(): number | null {
    return this.writable.budget;
  }

  get mtu(): number {
    return this.initialMtu;
  }

  /** Frames waiting for read(). */
  get pendingRead(): number {
    return this.rx.length;
  }

  /**
   * Queues copies of frames for read() (the kernel side sending to us), behind
   * an all-zero virtio-net header when the device has one. Returns how many
   * were queued.
   */
  inject(...frames: Uint8Array[]): number {
    const h = this.headerLength;
    return this.queue(frames.map((frame) => (h === 0 ? Buffer.from(frame) : Buffer.concat([Buffer.alloc(h), frame]))));
  }

  /** With a header length: queues header + frame as given (a super-frame, a partial checksum). */
  injectWithHeader(...framesWithHeaders: Uint8Array[]): number {
    if (this.headerLength === 0) throw new RangeError(`${this.name} has no virtio-net header`);
    return this.queue(framesWithHeaders.map((bytes) => Buffer.from(bytes)));
  }

  private queue(frames: Buffer[]): number {
    let queued = 0;
    for (const frame of frames) {
      if (this.isClosed) break;
      if (this.rx.length >= this.rxQueueLimit) {
        this.stats.rxQueueDrops++;
        continue;
      }
      this.rx.push(frame);
      queued++;
    }
    this.readable.poke();
    return queued;
  }

  /** Returns and forgets the frames written while no other device shared the hub (without their headers). */
  takeWritten(): Buffer[] {
    const h = this.headerLength;
    return this.written.splice(0, this.written.length).map((bytes) => bytes.subarray(h));
  }

  /** As takeWritten(), with each frame's virtio-net header in front (a device with offloads). */
  takeWrittenWithHeaders(): Buffer[] {
    return this.written.splice(0, this.written.length);
  }

  read(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    let n = 0;
    while (n < batch.capacity && this.rx.length > 0) {
      const frame = this.rx.shift() as Buffer;
      if (!batch.putPacket(n, frame, headroom)) {
        this.stats.readDropsTooBig++;
        continue;
      }
      batch.family[n] = 0;
      n++;
    }
    this.stats.framesRead += n;
    return n;
  }

  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.writeFrames(batch, slots, n, false);
  }

  /**
   * As TapDevice.writeHeaderless: with a header length, the slots hold plain
   * frames and each is written behind an all-zero header. Without, write().
   */
  writeHeaderless(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.writeFrames(batch, slots, n, this.headerLength > 0);
  }

  private writeFrames(batch: PacketBatch, slots: ArrayLike<number>, n: number, headerless: boolean): number {
    this.assertOpen();
    checkSlots(batch, slots, n);
    let taken = 0;
    for (; taken < n; taken++) {
      if (!this.writable.take()) break;
      const slot = slots[taken];
      const len = batch.lengths[slot];
      const h = this.headerLength;
      const start = batch.start(slot);
      if (
        len < (headerless ? 0 : h) + ETHERNET_HEADER_LENGTH ||
        (h > 0 && !headerless && !decodeVirtioNetHeader(batch.buffer, start, len, h, this.header).ok)
      ) {
        this.stats.writeDropsInvalid++;
        continue;
      }
      if (!this.linkUp) {
        this.stats.writeDropsLinkDown++;
        continue;
      }
      const frame = batch.buffer.subarray(start, start + len);
      const bytes = headerless ? Buffer.concat([Buffer.alloc(h), frame]) : frame;
      const others = this.hub?.othersOf(this) ?? [];
      if (others.length === 0) this.written.push(Buffer.from(bytes));
      else for (const other of others) other.deliver(bytes, h);
      this.stats.framesWritten++;
    }
    return taken;
  }

  /** A hub peer wrote `bytes` (behind a header of `h` bytes, 0 for none): take it as its device would. */
  deliver(bytes: Uint8Array, h: number): void {
    const mine = this.headerLength;
    if (mine === 0) this.inject(bytes.subarray(h));
    else if (h === 0) this.inject(bytes);
    else {
      const copy = Buffer.alloc(mine + bytes.length - h);
      Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(h, mine, 10)).copy(copy, 0);
      Buffer.from(bytes.buffer, bytes.byteOffset + h, bytes.length - h).copy(copy, mine);
      this.injectWithHeader(copy);
    }
  }

  /** Lifts or changes the EAGAIN simulation; fires a pending onWritable handler when there is room. */
  setWriteBudget(budget: number | null): void {
    this.writable.setBudget(budget);
  }

  override close(): void {
    if (this.isClosed) return;
    super.close();
    this.rx.length = 0;
    this.hub?.detach(this);
  }

  /** What makes the device readable (level-triggered): frames queued. Subclasses add their own news. */
  protected hasPendingRead(): boolean {
    return this.rx.length > 0;
  }

  /** Runs the readable handler on a later loop turn if hasPendingRead() says so. */
  protected pokeReadable(): void {
    this.readable.poke();
  }

  protected describe(): string {
    return `device ${this.name}`;
  }
}

const ETHERNET_HEADER_LENGTH = 14;

/**
 * A hub of fake TAPs: a frame written to one device is readable on every other
 * device of the hub (no learning — the thing under test does the switching).
 */
export class FakeFrameHub {
  private readonly devices: FakeFrameDevice[] = [];

  createDevice(options: FakeFrameDeviceOptions = {}): FakeFrameDevice {
    const device = new FakeFrameDevice(options);
    device.hub = this;
    this.devices.push(device);
    return device;
  }

  othersOf(device: FakeFrameDevice): FakeFrameDevice[] {
    return this.devices.filter((d) => d !== device);
  }

  detach(device: FakeFrameDevice): void {
    const i = this.devices.indexOf(device);
    if (i >= 0) this.devices.splice(i, 1);
    device.hub = null;
  }
}

/** Two fake TAPs wired back to back: what one writes, the other reads. */
export function createFakeFramePair(
  a: FakeFrameDeviceOptions = {},
  b: FakeFrameDeviceOptions = {},
): [FakeFrameDevice, FakeFrameDevice] {
  const hub = new FakeFrameHub();
  return [hub.createDevice(a), hub.createDevice(b)];
}
