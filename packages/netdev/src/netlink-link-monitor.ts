import { linkInfoOf } from './link-info.js';
import { LinkMonitor } from './link-monitor.js';
import { nativeBinding } from './native-binding.js';
import type { NativeLinkRecord } from './native-binding.js';
import { NetlinkFeed, checkReceiveBufferBytes, closeOnAbort } from './netlink-feed.js';
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

/**
 * The real LinkMonitor: an rtnetlink socket subscribed to RTMGRP_LINK in the
 * network namespace where it was opened (run openLinkMonitor() inside it; the
 * socket stays there), watched on Node's loop (NetlinkFeed). The table is
 * read once at open (no events for what already exists); after that every
 * RTM_NEWLINK/RTM_DELLINK becomes events (see LinkMonitorEvents). When the
 * kernel reports lost notifications (ENOBUFS), the table is read again over
 * the same socket and the difference is emitted, then `monitor:resync`.
 *
 * An active monitor keeps the process alive like a listening socket; unref()
 * lets it exit anyway.
 */
export class NetlinkLinkMonitor extends LinkMonitor {
  private readonly feed: NetlinkFeed<NativeLinkRecord, number>;
  private readonly stopAbort: () => void;

  /** Use openLinkMonitor(). */
  constructor(fd: number, signal?: AbortSignal) {
    super();
    this.feed = new NetlinkFeed<NativeLinkRecord, number>(
      fd,
      {
        read: (socket, dump) => {
          const { links, overflow } = nativeBinding().linkMonitorRead(socket, dump);
          return { records: links, overflow };
        },
        seed: (dumped) => this.seed(dumped.map(linkInfoOf)),
        apply: (record) => {
          this.applyLink(linkInfoOf(record), record.deleted);
          return record.ifindex;
        },
        replaceAll: (dumped, touched) => this.replaceAll(dumped.map(linkInfoOf), touched),
        resynced: () => this.queueResync(),
        flush: () => this.flush(),
      },
      'link',
    );
    this.stopAbort = closeOnAbort(signal, () => this.close());
  }

  unref(): void {
    this.feed.unref();
  }

  ref(): void {
    this.feed.ref();
  }

  override close(): void {
    if (this.isClosed) return;
    super.close();
    this.feed.close();
    this.stopAbort();
  }
}

/**
 * Starts watching the links of this thread's network namespace. Throws
 * NetdevError (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO).
 */
export function openLinkMonitor(options: OpenLinkMonitorOptions = {}): NetlinkLinkMonitor {
  options.signal?.throwIfAborted();
  checkReceiveBufferBytes(options.receiveBufferBytes);
  let fd: number;
  try {
    fd = nativeBinding().linkMonitorOpen(options.receiveBufferBytes ?? 0);
  } catch (err) {
    throw toNetdevError(err, 'open link monitor');
  }
  return new NetlinkLinkMonitor(fd, options.signal);
}
