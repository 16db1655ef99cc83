import { readFrameBatch, writeFrameBatch } from './native-frame-calls.js';
import type { NativeFrameRead, NativeFrameWrite } from './native-binding.js';
import type { PacketBatch } from './packet-batch.js';
import { checkSlots } from './slot-check.js';
import { SlotList } from './slot-list.js';
import { toNetdevError } from './system-error.js';
import type { FrameOffloads } from './types.js';
import { WatchedFd } from './watched-fd.js';

/**
 * The half that TapDevice and AttachedDevice share: a native fd whose frames
 * carry a virtio-net header when opened with offloads, read and written
 * through the addon's frame calls (native-frame-calls.ts). write() and
 * writeHeaderless() check their arguments and hand over to the device's
 * writeFrames(); nativeRead()/nativeWrite() make the call, name the device in
 * an error, and leave what the call counted in `callCounters`.
 */
export abstract class NativeFrameDevice extends WatchedFd {
  protected readonly fd: number;
  /** The virtio-net header's length in every frame, 0 without offloads. */
  protected readonly headerLength: number;
  /** What the last native call counted (drops by reason: see the device's call). */
  protected readonly callCounters: Float64Array;
  private readonly slotList = new SlotList();

  constructor(
    fd: number,
    readonly offloads: FrameOffloads,
    counterSlots: number,
  ) {
    super(fd);
    this.fd = fd;
    this.headerLength = offloads.vnetHeaderLength;
    this.callCounters = new Float64Array(counterSlots);
  }

  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.writeChecked(batch, slots, n, false);
  }

  /**
   * As write(), for a device opened with offloads whose caller holds plain
   * frames (no header in the slot): each goes behind an all-zero virtio-net
   * header (no flags, no GSO). Without offloads, the same as write().
   */
  writeHeaderless(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.writeChecked(batch, slots, n, true);
  }

  /** Writes slots already checked; returns the slots consumed from the front. */
  protected abstract writeFrames(batch: PacketBatch, slots: ArrayLike<number>, n: number, headerless: boolean): number;

  protected nativeRead(read: NativeFrameRead, batch: PacketBatch, headroom: number): number {
    try {
      return readFrameBatch(read, this.fd, batch, headroom, this.callCounters, this.headerLength);
    } catch (err) {
      throw toNetdevError(err, `read from ${this.describe()}`);
    }
  }

  protected nativeWrite(
    write: NativeFrameWrite,
    batch: PacketBatch,
    slots: ArrayLike<number>,
    n: number,
    headerless: boolean,
  ): number {
    const list = this.slotList.of(slots, n);
    try {
      return writeFrameBatch(write, this.fd, batch, list, n, this.callCounters, this.headerLength, headerless);
    } catch (err) {
      throw toNetdevError(err, `write to ${this.describe()}`);
    }
  }

  private writeChecked(batch: PacketBatch, slots: ArrayLike<number>, n: number, headerless: boolean): number {
    this.assertOpen();
    checkSlots(batch, slots, n);
    return this.writeFrames(batch, slots, n, headerless);
  }
}
