import { FdWatcher } from './fd-watcher.js';
import { toNetdevError } from './system-error.js';

/** The table a feed keeps current: a monitor's (links, FDB entries), keyed by K. */
export interface FeedTable<R, K> {
  /** The native read of what is pending; with `dump`, a dump of the whole table first (records marked `dumped`). */
  read(fd: number, dump: boolean): { records: R[]; overflow: boolean };
  /** The state when watching starts (no events). */
  seed(dumped: R[]): void;
  /** One notification; returns the key it touched. Events wait for flush(). */
  apply(record: R): K;
  /** The table as a dump after lost notifications says, but for `touched` keys (notified meanwhile: newer). */
  replaceAll(dumped: R[], touched: ReadonlySet<K>): void;
  /** Queues the monitor's `monitor:resync`. */
  resynced(): void;
  /** Emits the queued events. */
  flush(): void;
}

/** How many times in a row a dump is repeated because notifications were lost meanwhile. */
const MAX_RESYNC_ROUNDS = 3;

/**
 * The socket half of a netlink monitor: an rtnetlink socket subscribed to a
 * group in the namespace where it was opened, watched on Node's loop with
 * uv_poll like the devices. The table is dumped once at start (no events);
 * after that every notification goes to the table, then its events. When
 * the kernel reports lost notifications (ENOBUFS), the table is dumped again
 * over the same socket (so from its namespace) and the difference emitted,
 * then `monitor:resync`. The link monitor and the FDB monitor share it.
 */
export class NetlinkFeed<R extends { dumped?: boolean }, K> {
  private readonly watcher: FdWatcher;
  private readonly stopAbort: () => void = () => {};
  private rearmAfterRead = false;
  private closed = false;

  /** `onAbort` runs when `signal` aborts (the monitor closes itself, and this feed with it). */
  constructor(
    fd: number,
    private readonly table: FeedTable<R, K>,
    private readonly what: string,
    signal: AbortSignal | undefined,
    onAbort: () => void,
  ) {
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
      if (this.rearmAfterRead && !this.closed) {
        this.rearmAfterRead = false;
        this.watcher.rearm();
      }
    });
    if (signal !== undefined) {
      signal.addEventListener('abort', onAbort, { once: true });
      this.stopAbort = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Lets the process exit while the feed is open. */
  unref(): void {
    this.watcher.unref();
  }

  ref(): void {
    this.watcher.ref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    this.stopAbort();
  }

  private onReadable(): void {
    if (this.closed) return;
    const { records, overflow } = this.read(false);
    for (const record of records) this.table.apply(record);
    if (overflow) this.resync(true);
    this.table.flush();
  }

  /** Dumps the table; `emit`: queue the difference as events, then `monitor:resync`. */
  private resync(emit: boolean): void {
    for (let round = 0; round < MAX_RESYNC_ROUNDS; round++) {
      const { records, overflow } = this.read(true);
      const dumped = records.filter((r) => r.dumped === true);
      if (emit) {
        const touched = new Set<K>();
        for (const record of records) if (record.dumped !== true) touched.add(this.table.apply(record));
        this.table.replaceAll(dumped, touched);
      } else {
        this.table.seed(dumped);
      }
      if (!overflow) break;
    }
    if (emit) this.table.resynced();
  }

  private read(dump: boolean): { records: R[]; overflow: boolean } {
    try {
      return this.table.read(this.watcher.fd, dump);
    } catch (err) {
      throw toNetdevError(err, `read ${this.what} notifications`);
    }
  }
}

/**
 * Opens a monitor's socket with the addon's `open(bufferBytes)` (0: its
 * default), after checking the options: an aborted signal throws, a bad
 * `receiveBufferBytes` is a RangeError, a failure a NetdevError naming `what`.
 */
export function openMonitorSocket(
  options: { signal?: AbortSignal; receiveBufferBytes?: number },
  open: (bufferBytes: number) => number,
  what: string,
): number {
  options.signal?.throwIfAborted();
  checkReceiveBufferBytes(options.receiveBufferBytes);
  try {
    return open(options.receiveBufferBytes ?? 0);
  } catch (err) {
    throw toNetdevError(err, `open ${what} monitor`);
  }
}

/** Checks a `receiveBufferBytes` option (RangeError naming it). */
export function checkReceiveBufferBytes(bytes: number | undefined): void {
  if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1 || bytes > 2 ** 30)) {
    throw new RangeError(`receiveBufferBytes must be an integer of 1..${2 ** 30}, got ${bytes}`);
  }
}
