import { FdWatcher } from './fd-watcher.js';
import { linkInfoOf } from './link-info.js';
import { LinkMonitor } from './link-monitor.js';
import { nativeBinding } from './native-binding.js';
import type { NativeLinkRecord } from './native-binding.js';
import { toNetdevError } from './system-error.js';

export interface OpenLinkMonitorOptions {
  /** Aborting closes the monitor. */
  signal?: AbortSignal;
  /**
   * The socket's receive buffer in bytes (default 4 MiB). Notifications beyond
   * it are lost and recovered by a resync (`monitor:resync`); tests make it
   * small to prove that.
   */
  receiveBufferBytes?: number;
}

/** How many times in a row a dump is repeated because notifications were lost meanwhile. */
const MAX_RESYNC_ROUNDS = 3;

/**
 * The real LinkMonitor: an rtnetlink socket subscribed to RTMGRP_LINK in the
 * network namespace where it was opened (run openLinkMonitor() inside it; the
 * socket stays there), watched on Node's loop with uv_poll like the devices.
 * The table is read once at open (no events for what already exists); after
 * that every RTM_NEWLINK/RTM_DELLINK becomes events (see LinkMonitorEvents).
 * When the kernel reports lost notifications (ENOBUFS), the table is read
 * again over the same socket and the difference is emitted, then
 * `monitor:resync`.
 *
 * An active monitor keeps the process alive like a listening socket; unref()
 * lets it exit anyway.
 */
export class NetlinkLinkMonitor extends LinkMonitor {
  private readonly watcher: FdWatcher;
  private readonly abort: (() => void) | null = null;
  private rearmAfterRead = false;

  /** Use openLinkMonitor(). */
  constructor(fd: number, signal?: AbortSignal) {
    super();
    this.watcher = new FdWatcher(fd);
    try {
      this.resync(false);
    } catch (err) {
      this.watcher.close();
      throw err;
    }
    // A lost notification (ENOBUFS) is a socket error: libuv stops watching,
    // the read below clears it and resyncs, and the watch resumes.
    this.watcher.onError(() => (this.rearmAfterRead = true));
    this.watcher.onReadable(() => {
      this.onReadable();
      if (this.rearmAfterRead && !this.isClosed) {
        this.rearmAfterRead = false;
        this.watcher.rearm();
      }
    });
    if (signal !== undefined) {
      const abort = (): void => this.close();
      signal.addEventListener('abort', abort, { once: true });
      this.abort = () => signal.removeEventListener('abort', abort);
    }
  }

  unref(): void {
    this.watcher.unref();
  }

  ref(): void {
    this.watcher.ref();
  }

  override close(): void {
    if (this.isClosed) return;
    super.close();
    this.watcher.close();
    this.abort?.();
  }

  private onReadable(): void {
    if (this.isClosed) return;
    const { links, overflow } = this.read(false);
    for (const record of links) this.applyLink(linkInfoOf(record), record.deleted);
    if (overflow) this.resync(true);
    this.flush();
  }

  /**
   * Reads the whole table over the monitor's own socket (so from its
   * namespace). `emit`: queue the difference as events, then
   * `monitor:resync`; otherwise (at open) just take it as the start state.
   */
  private resync(emit: boolean): void {
    for (let round = 0; round < MAX_RESYNC_ROUNDS; round++) {
      const { links, overflow } = this.read(true);
      const dumped = links.filter((r) => r.dumped === true).map(linkInfoOf);
      const touched = new Set<number>();
      if (emit) {
        for (const record of links) {
          if (record.dumped === true) continue;
          touched.add(record.ifindex);
          this.applyLink(linkInfoOf(record), record.deleted);
        }
        this.replaceAll(dumped, touched);
      } else {
        this.seed(dumped);
      }
      if (!overflow) break;
    }
    if (emit) this.queueResync();
  }

  private read(dump: boolean): { links: NativeLinkRecord[]; overflow: boolean } {
    try {
      return nativeBinding().linkMonitorRead(this.watcher.fd, dump);
    } catch (err) {
      throw toNetdevError(err, 'read link notifications');
    }
  }
}

/**
 * Starts watching the links of this thread's network namespace. Throws
 * NetdevError (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO).
 */
export function openLinkMonitor(options: OpenLinkMonitorOptions = {}): NetlinkLinkMonitor {
  options.signal?.throwIfAborted();
  const buffer = options.receiveBufferBytes;
  if (buffer !== undefined && (!Number.isInteger(buffer) || buffer < 1 || buffer > 2 ** 30)) {
    throw new RangeError(`receiveBufferBytes must be an integer of 1..${2 ** 30}, got ${buffer}`);
  }
  let fd: number;
  try {
    fd = nativeBinding().linkMonitorOpen(options.receiveBufferBytes ?? 0);
  } catch (err) {
    throw toNetdevError(err, 'open link monitor');
  }
  return new NetlinkLinkMonitor(fd, options.signal);
}
