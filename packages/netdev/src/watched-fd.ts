import { NetdevError } from './errors.js';
import { FdWatcher } from './fd-watcher.js';

/**
 * The lifecycle half that TapDevice and NativeTunnelSocket share: one native fd
 * watched on Node's loop (FdWatcher), readable/writable handlers, ref/unref,
 * an idempotent close() that closes the fd, and DVS_CLOSED for use after close.
 */
export abstract class WatchedFd {
  protected readonly watcher: FdWatcher;
  protected isClosed = false;

  constructor(fd: number) {
    this.watcher = new FdWatcher(fd);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onReadable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.watcher.onReadable(handler);
  }

  onWritable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.watcher.onWritable(handler);
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

  /** What to call this fd in errors: "TAP vm1", "socket 0.0.0.0:4789". */
  protected abstract describe(): string;

  protected assertOpen(): void {
    if (this.isClosed) throw new NetdevError('DVS_CLOSED', `${this.describe()} is closed`);
  }
}
