import { FdWatcher } from './fd-watcher.js';
import { fdbEntryOf } from './fdb-entry.js';
import { FdbMonitor } from './fdb-monitor.js';
import type { FdbMonitorTables } from './fdb-monitor.js';
import { nativeBinding } from './native-binding.js';
import type { NativeFdbRecord } from './native-binding.js';
import { toNetdevError } from './system-error.js';

export interface OpenFdbMonitorOptions {
  /** Aborting closes the monitor. */
  signal?: AbortSignal;
  /** Which entries to keep and report (default 'all'); a kernel datapath learning local MACs wants 'master'. */
  tables?: FdbMonitorTables;
  /** The socket's receive buffer in bytes (default 4 MiB); beyond it, a resync. */
  receiveBufferBytes?: number;
}

const MAX_RESYNC_ROUNDS = 3;

/**
 * The real FdbMonitor: an rtnetlink socket subscribed to RTMGRP_NEIGH in the
 * network namespace where it was opened, keeping AF_BRIDGE neighbours (the
 * FDBs of bridges and vxlan devices; IP neighbours share the group and are
 * skipped natively), watched on Node's loop. The table is dumped at open (no
 * events for what exists); after that every RTM_NEWNEIGH/RTM_DELNEIGH becomes
 * events. On ENOBUFS the table is dumped again over the same socket, the
 * difference emitted, then `monitor:resync` (as the link monitor does).
 * An active monitor keeps the process alive; unref() lets it exit anyway.
 */
export class NetlinkFdbMonitor extends FdbMonitor {
  private readonly watcher: FdWatcher;
  private readonly abort: (() => void) | null = null;
  private rearmAfterRead = false;

  /** Use openFdbMonitor(). */
  constructor(fd: number, tables: FdbMonitorTables, signal?: AbortSignal) {
    super(tables);
    this.watcher = new FdWatcher(fd);
    try {
      this.resync(false);
    } catch (err) {
      this.watcher.close();
      throw err;
    }
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
    const { entries, overflow } = this.read(false);
    for (const record of entries) this.applyEntry(fdbEntryOf(record), record.deleted);
    if (overflow) this.resync(true);
    this.flush();
  }

  private resync(emit: boolean): void {
    for (let round = 0; round < MAX_RESYNC_ROUNDS; round++) {
      const { entries, overflow } = this.read(true);
      const dumped = entries.filter((r) => r.dumped === true).map(fdbEntryOf);
      if (emit) {
        const touched = new Set<string>();
        for (const record of entries) {
          if (record.dumped !== true) touched.add(this.applyEntry(fdbEntryOf(record), record.deleted));
        }
        this.replaceAll(dumped, touched);
      } else {
        this.seed(dumped);
      }
      if (!overflow) break;
    }
    if (emit) this.queueResync();
  }

  private read(dump: boolean): { entries: NativeFdbRecord[]; overflow: boolean } {
    try {
      return nativeBinding().fdbMonitorRead(this.watcher.fd, dump);
    } catch (err) {
      throw toNetdevError(err, 'read fdb notifications');
    }
  }
}

/**
 * Starts watching the FDB entries of this thread's network namespace. Throws
 * NetdevError (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO).
 */
export function openFdbMonitor(options: OpenFdbMonitorOptions = {}): NetlinkFdbMonitor {
  options.signal?.throwIfAborted();
  const buffer = options.receiveBufferBytes;
  if (buffer !== undefined && (!Number.isInteger(buffer) || buffer < 1 || buffer > 2 ** 30)) {
    throw new RangeError(`receiveBufferBytes must be an integer of 1..${2 ** 30}, got ${buffer}`);
  }
  const tables = options.tables ?? 'all';
  if (tables !== 'all' && tables !== 'master' && tables !== 'self') {
    throw new RangeError(`tables must be 'master', 'self' or 'all', got ${String(tables)}`);
  }
  let fd: number;
  try {
    fd = nativeBinding().fdbMonitorOpen(buffer ?? 0);
  } catch (err) {
    throw toNetdevError(err, 'open fdb monitor');
  }
  return new NetlinkFdbMonitor(fd, tables, options.signal);
}
