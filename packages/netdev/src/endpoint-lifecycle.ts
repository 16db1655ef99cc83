import { NetdevError } from './errors.js';

/**
 * The rule every device and tunnel socket keeps around its I/O, native,
 * dgram or fake alike (types.ts): readable and writable handlers are set
 * while it is open and may be cleared (null) even after close(); `closed`
 * says which; any other use after close() is NetdevError DVS_CLOSED naming
 * it. Subclasses say how a handler is watched and what close() releases.
 */
export abstract class EndpointLifecycle {
  protected isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  onReadable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.watchReadable(handler);
  }

  onWritable(handler: (() => void) | null): void {
    if (handler === null && this.isClosed) return;
    this.assertOpen();
    this.watchWritable(handler);
  }

  /** Idempotent: the first call releases what it holds and sets isClosed. */
  abstract close(): void;

  protected abstract watchReadable(handler: (() => void) | null): void;

  protected abstract watchWritable(handler: (() => void) | null): void;

  /** What to call it in errors: "TAP vm1", "socket 0.0.0.0:4789". */
  protected abstract describe(): string;

  protected assertOpen(): void {
    if (this.isClosed) throw new NetdevError('DVS_CLOSED', `${this.describe()} is closed`);
  }
}
