import type { LinkInfo } from './link-info.js';
import { NotifiedTable } from './notified-table.js';

/**
 * Events of a LinkMonitor, emitted on Node's loop after the monitor's table
 * already holds the new state (a listener that calls get() sees it):
 *  - `link:new`    a link appeared (created, moved into this namespace, or a
 *                  device of a known name came back — with a new ifindex);
 *  - `link:up` / `link:down`   LinkInfo.up changed (admin state, carrier);
 *  - `link:change` name, MTU, MAC, master or kind changed (`previous` is
 *                  the state before); flag changes other than up/down (such
 *                  as promiscuous mode, which attaching itself toggles) are
 *                  not reported;
 *  - `link:del`    the link is gone (deleted, its TAP's last fd closed, moved
 *                  to another namespace);
 *  - `monitor:resync` the kernel dropped notifications (the socket buffer
 *                  overflowed): the table was read again and the events
 *                  above were made from the difference, so nothing is lost
 *                  but the order of changes between the two reads.
 */
export interface LinkMonitorEvents {
  'link:new': [link: LinkInfo];
  'link:up': [link: LinkInfo];
  'link:down': [link: LinkInfo];
  'link:change': [link: LinkInfo, previous: LinkInfo];
  'link:del': [link: LinkInfo];
  'monitor:resync': [];
}

/**
 * The table of links of one network namespace, kept current from link
 * notifications, and the typed events made from its changes. The real monitor
 * (openLinkMonitor: rtnetlink) and the fake one (@dvs/netdev/testing) both
 * feed it, so the rules for which event a change makes live here only.
 */
export class LinkMonitor extends NotifiedTable<LinkMonitorEvents, LinkInfo, number> {
  private readonly byIndex = new Map<number, LinkInfo>();
  private readonly byName = new Map<string, number>();

  /** The link of that name now, if there is one. */
  get(name: string): LinkInfo | undefined {
    const ifindex = this.byName.get(name);
    return ifindex === undefined ? undefined : this.byIndex.get(ifindex);
  }

  getByIndex(ifindex: number): LinkInfo | undefined {
    return this.byIndex.get(ifindex);
  }

  /** Every link, by ifindex. */
  links(): LinkInfo[] {
    return [...this.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  protected seed(links: readonly LinkInfo[]): void {
    this.byIndex.clear();
    this.byName.clear();
    for (const link of links) this.put(link);
  }

  /** A link's new state, or its deletion. */
  protected applyChange(link: LinkInfo, deleted: boolean): number {
    const previous = this.byIndex.get(link.ifindex);
    if (deleted) {
      if (previous !== undefined) this.remove(previous);
      this.queue(['link:del', previous === undefined ? link : { ...previous, ...link }]);
      return link.ifindex;
    }
    this.put(link, previous);
    if (previous === undefined) {
      this.queue(['link:new', link]);
      return link.ifindex;
    }
    if (
      previous.name !== link.name ||
      previous.mtu !== link.mtu ||
      previous.mac !== link.mac ||
      previous.masterIndex !== link.masterIndex ||
      previous.kind !== link.kind
    ) {
      this.queue(['link:change', link, previous]);
    }
    if (previous.up !== link.up) this.queue([link.up ? 'link:up' : 'link:down', link]);
    return link.ifindex;
  }

  protected keyOf(link: LinkInfo): number {
    return link.ifindex;
  }

  protected held(): Iterable<[number, LinkInfo]> {
    return this.byIndex;
  }

  private put(link: LinkInfo, previous = this.byIndex.get(link.ifindex)): void {
    if (previous !== undefined && previous.name !== link.name && this.byName.get(previous.name) === link.ifindex) {
      this.byName.delete(previous.name);
    }
    this.byIndex.set(link.ifindex, link);
    this.byName.set(link.name, link.ifindex);
  }

  private remove(link: LinkInfo): void {
    this.byIndex.delete(link.ifindex);
    if (this.byName.get(link.name) === link.ifindex) this.byName.delete(link.name);
  }
}
