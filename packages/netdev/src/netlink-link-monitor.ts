import { linkInfoOf } from './link-info.js';
import { LinkMonitor } from './link-monitor.js';
import { nativeBinding } from './native-binding.js';
import { NetlinkFeed, openMonitorSocket } from './netlink-feed.js';

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
  /** Use openLinkMonitor(). */
  constructor(fd: number, signal?: AbortSignal) {
    super();
    const table = this.feedTable((socket, dump) => nativeBinding().linkMonitorRead(socket, dump), linkInfoOf);
    this.holdFeed(new NetlinkFeed(fd, table, 'link', signal, () => this.close()));
  }
}

/**
 * Starts watching the links of this thread's network namespace. Throws
 * NetdevError (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO).
 */
export function openLinkMonitor(options: OpenLinkMonitorOptions = {}): NetlinkLinkMonitor {
  const fd = openMonitorSocket(options, (bytes) => nativeBinding().linkMonitorOpen(bytes), 'link');
  return new NetlinkLinkMonitor(fd, options.signal);
}
