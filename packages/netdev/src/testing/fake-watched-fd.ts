import { NetdevError } from '../errors.js';
import { ReadableNotifier } from './readable-notifier.js';
import { WritableNotifier } from './writable-notifier.js';

/**
 * The lifecycle half that the fake device and the fake socket share, as
 * WatchedFd is for the real ones: level-triggered readable and one-shot
 * writable handlers (with the EAGAIN budget), an idempotent close() that
 * drops them, and DVS_CLOSED for use after close.
 */
export abstract class FakeWatchedFd {
  protected isClosed = false;
  protected readonly readable = new ReadableNotifier(() => this.hasPendingRead());
  protected readonly writable = new WritableNotifier(() => this.isClosed);

  get closed(): boolean {
    return this.isClosed;
  }

  onReadable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.readable.set(handler);
  }

  onWritable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.writable.set(handler);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.readable.set(null);
    this.writable.set(null);
  }

  /** What makes it readable (level-triggered). */
  protected abstract hasPendingRead(): boolean;

  /** What to call it in errors: "device fake0", "socket 192.0.2.1:4789". */
  protected abstract describe(): string;

  protected assertOpen(): void {
    if (this.isClosed) throw new NetdevError('DVS_CLOSED', `${this.describe()} is closed`);
  }
}
