/**
 * etcd3 (1.1.x) throws from its watch stream's `data` handler when etcd
 * answers for a watch it no longer knows: "Failed to find watcher for
 * IWatchResponse" (an event or cancellation for a watch id it has dropped)
 * and "Could not find watcher corresponding to create response". gRPC
 * delivers messages inside a promise chain, so the throw becomes an
 * unhandled rejection, and a daemon's crash handler ends the process: an
 * agent would stop forwarding because of a stray answer on a stream that
 * had just reconnected or closed (seen once in the agent's etcd tests, after
 * the client closed while a watch was being cancelled).
 *
 * etcd's own Go client drops a response for an unknown watch id. This guard
 * does the same: it wraps the two WatchManager methods so that such a
 * response is counted and dropped, and every response for a watch etcd3
 * still holds goes through unchanged. Installed once per process by
 * createEtcdClient. If etcd3's internals change shape, the guard installs
 * nothing and says so (`watchResponseGuardInstalled`), and a test fails.
 */
import { WatchManager } from 'etcd3/lib/watch.js';

interface WatchResponseLike {
  watch_id: string;
  canceled: boolean;
}

/** The parts of etcd3's WatchManager the guard reads (private in its typings). */
interface WatchManagerInternals {
  watchers: { id: string | null }[];
  queue?: { queue: unknown[] };
  handleResponse(res: WatchResponseLike): void;
  handleCreatedResponse(res: WatchResponseLike): void;
}

let installed: boolean | null = null;
let dropped = 0;

/** Responses dropped because etcd3 no longer held their watch, since the process started. */
export function strayWatchResponses(): number {
  return dropped;
}

/** Wraps etcd3's handlers once; true when the guard is in place. */
export function installWatchResponseGuard(): boolean {
  if (installed !== null) return installed;
  const proto = WatchManager.prototype as unknown as Partial<WatchManagerInternals>;
  const handleResponse = proto.handleResponse;
  const handleCreatedResponse = proto.handleCreatedResponse;
  if (typeof handleResponse !== 'function' || typeof handleCreatedResponse !== 'function') {
    installed = false;
    return installed;
  }
  proto.handleResponse = function (this: WatchManagerInternals, res: WatchResponseLike): void {
    if (!this.watchers.some((w) => w.id === res.watch_id)) {
      dropped++;
      return;
    }
    handleResponse.call(this, res);
  };
  proto.handleCreatedResponse = function (this: WatchManagerInternals, res: WatchResponseLike): void {
    const waiting = res.canceled ? this.watchers.some((w) => w.id === null) : (this.queue?.queue.length ?? 0) > 0;
    if (!waiting) {
      dropped++;
      return;
    }
    handleCreatedResponse.call(this, res);
  };
  installed = true;
  return installed;
}

/** Whether the guard is in place (false: etcd3's internals changed shape). */
export function watchResponseGuardInstalled(): boolean {
  return installed === true;
}
