import { fdbEntryKey } from './fdb-entry.js';
import type { FdbEntry } from './fdb-entry.js';
import { NotifiedTable } from './notified-table.js';

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

/** Which entries a monitor keeps: a bridge's table ('master'), devices' own ('self'), or both. */
export type FdbMonitorTables = 'master' | 'self' | 'all';

/**
 * The kernel FDB entries of one network namespace, kept current from
 * notifications, and the typed events made from their changes (the rule for
 * what identifies an entry is fdbEntryKey()). The real monitor
 * (openFdbMonitor) feeds it; a fake can feed it the same way.
 */
export class FdbMonitor extends NotifiedTable<FdbMonitorEvents, FdbEntry, string> {
  private readonly table = new Map<string, FdbEntry>();

  constructor(private readonly tables: FdbMonitorTables = 'all') {
    super();
  }

  /** Every entry held now. */
  entries(): FdbEntry[] {
    return [...this.table.values()];
  }

  /** The entries of a bridge (`master`) or a device's own (by ifindex). */
  entriesOf(ifindex: number): FdbEntry[] {
    return this.entries().filter((e) => (e.table === 'master' ? e.master : e.ifindex) === ifindex);
  }

  protected accepts(entry: FdbEntry): boolean {
    return this.tables === 'all' || entry.table === this.tables;
  }

  protected seed(entries: readonly FdbEntry[]): void {
    this.table.clear();
    for (const entry of entries) if (this.accepts(entry)) this.table.set(fdbEntryKey(entry), entry);
  }

  protected applyChange(entry: FdbEntry, deleted: boolean): string {
    const key = fdbEntryKey(entry);
    if (!this.accepts(entry)) return key;
    const previous = this.table.get(key);
    if (deleted) {
      if (previous === undefined) return key;
      this.table.delete(key);
      this.queue(['fdb:del', entry]);
      return key;
    }
    this.table.set(key, entry);
    if (previous === undefined || !sameEntry(previous, entry)) this.queue(['fdb:add', entry, previous]);
    return key;
  }

  protected keyOf(entry: FdbEntry): string {
    return fdbEntryKey(entry);
  }

  protected held(): Iterable<[string, FdbEntry]> {
    return this.table;
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
