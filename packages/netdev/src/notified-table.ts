import { EventEmitter } from 'node:events';
import type { FeedTable } from './netlink-feed.js';

/** The events every notified table has besides its own. */
export interface NotifiedTableEvents {
  'monitor:resync': [];
}

type PendingEvent<T> = { [K in keyof T]: [K, ...(T[K] extends unknown[] ? T[K] : never)] }[keyof T];

/** The socket half behind a table (NetlinkFeed): the table forwards these. */
export interface TableFeed {
  ref(): void;
  unref(): void;
  close(): void;
}

/**
 * What LinkMonitor (links by ifindex) and FdbMonitor (entries by
 * fdbEntryKey) share: a table of items E by key K kept current from
 * notifications, whose changes queue typed events that flush() emits after
 * each batch of notifications (a listener sees the new state); a resync after
 * lost notifications (replaceAll(), then `monitor:resync`); close(). The real
 * monitors are fed by a netlink socket (feedTable(), holdFeed()); the fakes
 * call applyChange() and flush() themselves.
 */
export abstract class NotifiedTable<
  T extends NotifiedTableEvents & Record<keyof T, unknown[]>,
  E,
  K,
> extends EventEmitter<T> {
  private readonly pending: PendingEvent<T>[] = [];
  private feed: TableFeed | null = null;
  protected isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops watching. Idempotent; no event is emitted afterwards. */
  close(): void {
    this.isClosed = true;
    this.pending.length = 0;
    this.feed?.close();
  }

  /** Lets the process exit while this watches (a fake keeps nothing alive anyway). */
  unref(): void {
    this.feed?.unref();
  }

  ref(): void {
    this.feed?.ref();
  }

  /** Applies one notification (an item's new state, or its deletion); its events wait for flush(). Returns its key. */
  protected abstract applyChange(item: E, deleted: boolean): K;

  /** Sets the table without events (the state when watching starts). */
  protected abstract seed(items: readonly E[]): void;

  protected abstract keyOf(item: E): K;

  /** What the table holds now. */
  protected abstract held(): Iterable<[K, E]>;

  /**
   * Replaces the table with a fresh dump, queuing the events its difference
   * makes. Keys in `touched` changed by notification while the dump was under
   * way: their notified state is newer and is kept.
   */
  protected replaceAll(items: readonly E[], touched: ReadonlySet<K>): void {
    const seen = new Set<K>();
    for (const item of items) {
      const key = this.keyOf(item);
      seen.add(key);
      if (!touched.has(key)) this.applyChange(item, false);
    }
    for (const [key, item] of [...this.held()]) {
      if (!seen.has(key) && !touched.has(key)) this.applyChange(item, true);
    }
  }

  protected queue(event: PendingEvent<T>): void {
    this.pending.push(event);
  }

  /** Queues `monitor:resync` after the events queued so far. */
  protected queueResync(): void {
    this.pending.push(['monitor:resync'] as unknown as PendingEvent<T>);
  }

  /** Emits the queued events, in order. */
  protected flush(): void {
    while (this.pending.length > 0 && !this.isClosed) {
      const [name, ...args] = this.pending.shift() as PendingEvent<T>;
      (this.emit as unknown as (event: keyof T, ...rest: unknown[]) => boolean)(name, ...args);
    }
  }

  /** The table a netlink feed keeps current, from the kernel's records R (`convert` makes an item of one). */
  protected feedTable<R extends { deleted: boolean }>(
    read: FeedTable<R, K>['read'],
    convert: (record: R) => E,
  ): FeedTable<R, K> {
    return {
      read,
      seed: (dumped) => this.seed(dumped.map(convert)),
      apply: (record) => this.applyChange(convert(record), record.deleted),
      replaceAll: (dumped, touched) => this.replaceAll(dumped.map(convert), touched),
      resynced: () => this.queueResync(),
      flush: () => this.flush(),
    };
  }

  /** The feed this table forwards ref(), unref() and close() to. */
  protected holdFeed(feed: TableFeed): void {
    this.feed = feed;
  }
}
