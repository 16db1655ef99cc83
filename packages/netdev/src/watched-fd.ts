import { EndpointLifecycle } from './endpoint-lifecycle.js';
import { FdWatcher } from './fd-watcher.js';

/**
 * The lifecycle half that the native devices and NativeTunnelSocket share:
 * one native fd watched on Node's loop (FdWatcher) for the handlers
 * (EndpointLifecycle), ref/unref, and an idempotent close() that closes the fd.
 */
export abstract class WatchedFd extends EndpointLifecycle {
  protected readonly watcher: FdWatcher;

  constructor(fd: number) {
    super();
    this.watcher = new FdWatcher(fd);
  }

  /** Lets the process exit while this fd is still watched (like socket.unref()). */
  unref(): void {
    this.watcher.unref();
  }

  ref(): void {
    this.watcher.ref();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.watcher.close();
  }

  protected watchReadable(handler: (() => void) | null): void {
    this.watcher.onReadable(handler);
  }

  protected watchWritable(handler: (() => void) | null): void {
    this.watcher.onWritable(handler);
  }
}
