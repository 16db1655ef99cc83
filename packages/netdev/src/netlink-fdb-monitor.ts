import { fdbEntryOf } from './fdb-entry.js';
import { FdbMonitor } from './fdb-monitor.js';
import type { FdbMonitorTables } from './fdb-monitor.js';
import { nativeBinding } from './native-binding.js';
import { NetlinkFeed, openMonitorSocket } from './netlink-feed.js';

export interface OpenFdbMonitorOptions {
  /** Aborting closes the monitor. */
  signal?: AbortSignal;
  /** Which entries to keep and report (default 'all'); a kernel datapath learning local MACs wants 'master'. */
  tables?: FdbMonitorTables;
  /** The socket's receive buffer in bytes (default 4 MiB); beyond it, a resync. */
  receiveBufferBytes?: number;
}

/** The addon skips entries of the other table before making an object of them. */
const NATIVE_TABLES: Record<FdbMonitorTables, 0 | 1 | 2> = { all: 0, master: 1, self: 2 };

/**
 * The real FdbMonitor: an rtnetlink socket subscribed to RTMGRP_NEIGH in the
 * network namespace where it was opened, keeping AF_BRIDGE neighbours (the
 * FDBs of bridges and vxlan devices; IP neighbours share the group and are
 * skipped natively), watched on Node's loop (NetlinkFeed, as the link
 * monitor). The table is dumped at open (no events for what exists); after
 * that every RTM_NEWNEIGH/RTM_DELNEIGH becomes events; lost notifications
 * (ENOBUFS) are recovered by a dump and `monitor:resync`. An active monitor
 * keeps the process alive; unref() lets it exit anyway.
 */
export class NetlinkFdbMonitor extends FdbMonitor {
  /** Use openFdbMonitor(). */
  constructor(fd: number, tables: FdbMonitorTables, signal?: AbortSignal) {
    super(tables);
    const native = NATIVE_TABLES[tables];
    const table = this.feedTable((socket, dump) => nativeBinding().fdbMonitorRead(socket, dump, native), fdbEntryOf);
    this.holdFeed(new NetlinkFeed(fd, table, 'fdb', signal, () => this.close()));
  }
}

/**
 * Starts watching the FDB entries of this thread's network namespace. Throws
 * NetdevError (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO).
 */
export function openFdbMonitor(options: OpenFdbMonitorOptions = {}): NetlinkFdbMonitor {
  const tables = options.tables ?? 'all';
  if (tables !== 'all' && tables !== 'master' && tables !== 'self') {
    throw new RangeError(`tables must be 'master', 'self' or 'all', got ${String(tables)}`);
  }
  const fd = openMonitorSocket(options, (bytes) => nativeBinding().fdbMonitorOpen(bytes), 'fdb');
  return new NetlinkFdbMonitor(fd, tables, options.signal);
}
