import { EndpointLifecycle } from '../endpoint-lifecycle.js';
import { ReadableNotifier } from '../readable-notifier.js';
import { WritableNotifier } from './writable-notifier.js';

/**
 * The lifecycle half that the fake device and the fake socket share, as
 * WatchedFd is for the native ones: level-triggered readable and one-shot
 * writable handlers (with the EAGAIN budget) for EndpointLifecycle, and an
 * idempotent close() that drops them.
 */
export abstract class FakeWatchedFd extends EndpointLifecycle {
  protected readonly readable = new ReadableNotifier(() => this.hasPendingRead());
  protected readonly writable = new WritableNotifier(() => this.isClosed);

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.readable.set(null);
    this.writable.set(null);
  }

  /** What makes it readable (level-triggered). */
  protected abstract hasPendingRead(): boolean;

  protected watchReadable(handler: (() => void) | null): void {
    this.readable.set(handler);
  }

  protected watchWritable(handler: (() => void) | null): void {
    this.writable.set(handler);
  }
}
