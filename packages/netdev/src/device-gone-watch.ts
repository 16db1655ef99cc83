import { statSync } from 'node:fs';
import { openLinkMonitor } from './netlink-link-monitor.js';
import type { NetlinkLinkMonitor } from './netlink-link-monitor.js';

/**
 * Tells attached devices that their device was deleted. The packet socket
 * itself cannot: its one wake-up comes when the device goes down, just before
 * it is unregistered, and unregistering only resets the socket's ifindex
 * silently. So each network namespace with attached devices in it gets one
 * link monitor (rtnetlink), opened with the first device and closed with the
 * last, whose `link:del` marks the devices of that ifindex gone.
 *
 * The monitor is unref()'d: only the devices' own watches keep the process alive.
 */
interface NamespaceWatch {
  monitor: NetlinkLinkMonitor;
  byIndex: Map<number, Set<() => void>>;
  count: number;
}

const watches = new Map<string, NamespaceWatch>();

/**
 * Calls `onGone` once when the device `ifindex` of this thread's network
 * namespace is deleted. Call it in that namespace (as when attaching). Returns
 * the function that stops watching.
 */
export function watchDeviceGone(ifindex: number, onGone: () => void): () => void {
  const key = currentNamespaceKey();
  let watch = watches.get(key);
  if (watch === undefined) {
    const monitor = openLinkMonitor();
    monitor.unref();
    const created: NamespaceWatch = { monitor, byIndex: new Map(), count: 0 };
    monitor.on('link:del', (link) => {
      const callbacks = created.byIndex.get(link.ifindex);
      if (callbacks === undefined) return;
      created.byIndex.delete(link.ifindex);
      for (const callback of callbacks) callback();
    });
    watches.set(key, created);
    watch = created;
  }
  const w = watch;
  let callbacks = w.byIndex.get(ifindex);
  if (callbacks === undefined) w.byIndex.set(ifindex, (callbacks = new Set()));
  const callback = (): void => onGone();
  callbacks.add(callback);
  w.count++;
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    w.byIndex.get(ifindex)?.delete(callback);
    if (w.byIndex.get(ifindex)?.size === 0) w.byIndex.delete(ifindex);
    if (--w.count === 0) {
      w.monitor.close();
      watches.delete(key);
    }
  };
}

/** This thread's network namespace, as device:inode of /proc/thread-self/ns/net. */
function currentNamespaceKey(): string {
  const st = statSync('/proc/thread-self/ns/net');
  return `${st.dev}:${st.ino}`;
}
