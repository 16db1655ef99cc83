import { FdWatcher } from './fd-watcher.js';
import { nativeBinding } from './native-binding.js';
import { toNetdevError } from './system-error.js';

/** A frame the snooper read: valid only during the call. */
export type SnoopedFrameHandler = (ifindex: number, frame: Buffer) => void;

const FRAME_BYTES = 1600;
/** Frames read per readable turn, so a flood of ARP cannot hold the loop. */
const MAX_PER_TURN = 256;

/**
 * Reads the frames that bind IP addresses to MACs (ARP, ICMPv6 neighbour
 * solicitations and advertisements) arriving on any interface of this
 * network namespace, with the interface they arrived on. A classic BPF
 * filter in the kernel keeps every other frame away, so forwarding in the
 * kernel (a bridge between ports) never wakes this process for data; frames
 * this host transmits are not read. A kernel datapath learns its ports' IP
 * bindings with it (src/native/ip-neighbour.cc).
 */
export class NeighbourSnooper {
  private readonly watcher: FdWatcher;
  private readonly buffer = Buffer.alloc(FRAME_BYTES);
  private handler: SnoopedFrameHandler | null = null;
  private closed = false;

  constructor(fd: number) {
    this.watcher = new FdWatcher(fd);
  }

  /** Starts (a handler) or stops (null) reading. */
  onFrame(handler: SnoopedFrameHandler | null): void {
    this.handler = handler;
    if (this.closed) return;
    this.watcher.onReadable(handler === null ? null : () => this.drain());
  }

  /** Lets the process exit while it watches. */
  unref(): void {
    this.watcher.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
  }

  private drain(): void {
    const binding = nativeBinding();
    for (let i = 0; i < MAX_PER_TURN && !this.closed; i++) {
      let got: { ifindex: number; length: number } | null;
      try {
        got = binding.snoopRecv(this.watcher.fd, this.buffer);
      } catch {
        return; // A socket error is cleared by the read that reported it; the next frame comes anyway.
      }
      if (got === null) return;
      this.handler?.(got.ifindex, this.buffer.subarray(0, got.length));
    }
  }
}

/** Opens a snooper in this thread's network namespace (needs CAP_NET_RAW). Throws NetdevError. */
export function openNeighbourSnooper(options: { receiveBufferBytes?: number } = {}): NeighbourSnooper {
  let fd: number;
  try {
    fd = nativeBinding().snoopOpen(options.receiveBufferBytes ?? 0);
  } catch (err) {
    throw toNetdevError(err, 'open the neighbour snooper');
  }
  return new NeighbourSnooper(fd);
}
