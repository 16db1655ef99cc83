import { EventEmitter } from 'node:events';
import { fdbEntryKey } from './fdb-entry.js';
import type { FdbEntry } from './fdb-entry.js';

/**
 * Events of an FdbMonitor, emitted on Node's loop after its table holds the
 * new state:
 *  - `fdb:add`  an entry appeared, or changed: `previous` is the entry it
 *               replaced (a MAC that moved to another port of its bridge,
 *               a vxlan entry pointed at another VTEP, a state change);
 *  - `fdb:del`  an entry is gone (aged out, deleted, its device deleted);
 *  - `monitor:resync` the kernel dropped notifications (the socket buffer
 *               overflowed): the table was dumped again and the events above
 *               were made from the difference.
 * A local MAC the bridge learns (a VM's first frame, QEMU's RARP after a
 * migration) is an `fdb:add` with table 'master', state 'dynamic',
 * `master` = the bridge and `ifindex` = the port it arrived on.
 */
export interface FdbMonitorEvents {
  'fdb:add': [entry: FdbEntry, previous: FdbEntry | undefined];
  'fdb:del': [entry: FdbEntry];
  'monitor:resync': [];
}

type PendingEvent = { [K in keyof FdbMonitorEvents]: [K, ...FdbMonitorEvents[K]] }[keyof FdbMonitorEvents];

/** Which entries a monitor keeps: a bridge's table ('master'), devices' own ('self'), or both. */
export type FdbMonitorTables = 'master' | 'self' | 'all';

/**
 * The kernel FDB entries of one network namespace, kept current from
 * notifications, and the typed events made from their changes (the rule for
 * what identifies an entry is fdbEntryKey()). The real monitor
 * (openFdbMonitor) feeds it; a fake can feed it the same way.
 */
export class FdbMonitor extends EventEmitter<FdbMonitorEvents> {
  private readonly table = new Map<string, FdbEntry>();
  private readonly pending: PendingEvent[] = [];
  protected isClosed = false;

  constructor(private readonly tables: FdbMonitorTables = 'all') {
    super();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Every entry held now. */
  entries(): FdbEntry[] {
    return [...this.table.values()];
  }

  /** The entries of a bridge (`master`) or a device's own (by ifindex). */
  entriesOf(ifindex: number): FdbEntry[] {
    return this.entries().filter((e) => (e.table === 'master' ? e.master : e.ifindex) === ifindex);
  }

  /** Stops watching. Idempotent; no event is emitted afterwards. */
  close(): void {
    this.isClosed = true;
    this.pending.length = 0;
  }

  protected accepts(entry: FdbEntry): boolean {
    return this.tables === 'all' || entry.table === this.tables;
  }

  /** Sets the table without events (the state when watching starts). */
  protected seed(entries: readonly FdbEntry[]): void {
    this.table.clear();
    for (const entry of entries) if (this.accepts(entry)) this.table.set(fdbEntryKey(entry), entry);
  }

  /** Applies one notification; its event waits for flush(). Returns the entry's key. */
  protected applyEntry(entry: FdbEntry, deleted: boolean): string {
    const key = fdbEntryKey(entry);
    if (!this.accepts(entry)) return key;
    const previous = this.table.get(key);
    if (deleted) {
      if (previous === undefined) return key;
      this.table.delete(key);
      this.pending.push(['fdb:del', entry]);
      return key;
    }
    this.table.set(key, entry);
    if (previous === undefined || !sameEntry(previous, entry)) this.pending.push(['fdb:add', entry, previous]);
    return key;
  }

  /**
   * Replaces the table with a fresh dump, queuing the events its difference
   * makes. Keys in `touched` changed by notification during the dump: their
   * notified state is newer and is kept.
   */
  protected replaceAll(entries: readonly FdbEntry[], touched: ReadonlySet<string>): void {
    const seen = new Set<string>();
    for (const entry of entries) {
      const key = fdbEntryKey(entry);
      seen.add(key);
      if (!touched.has(key)) this.applyEntry(entry, false);
    }
    for (const [key, entry] of [...this.table]) {
      if (!seen.has(key) && !touched.has(key)) this.applyEntry(entry, true);
    }
  }

  protected queueResync(): void {
    this.pending.push(['monitor:resync']);
  }

  /** Emits the queued events, in order. */
  protected flush(): void {
    while (this.pending.length > 0 && !this.isClosed) {
      const [name, ...args] = this.pending.shift() as PendingEvent;
      (this.emit as (event: string, ...rest: unknown[]) => boolean)(name, ...args);
    }
  }
}

function sameEntry(a: FdbEntry, b: FdbEntry): boolean {
  return (
    a.ifindex === b.ifindex &&
    a.state === b.state &&
    a.dst === b.dst &&
    a.dstPort === b.dstPort &&
    a.vni === b.vni &&
    a.via === b.via &&
    a.extLearned === b.extLearned &&
    a.sticky === b.sticky
  );
}
