import type { FdHandle } from './native-binding.js';
import { nativeBinding } from './native-binding.js';

const READABLE = 1;
const WRITABLE = 2;

/**
 * Readable/writable notifications for one native fd, on Node's event loop
 * (uv_poll; see src/native/fd-handle.cc). Readable is level-triggered: the
 * handler runs on every loop turn while frames are pending. Writable is
 * one-shot. An active watch keeps the process alive like a bound socket does;
 * unref() lets the process exit anyway. close() closes the fd itself.
 */
export class FdWatcher {
  private readonly handle: FdHandle;
  private readable: (() => void) | null = null;
  private writable: (() => void) | null = null;
  private error: (() => void) | null = null;
  private mask = 0;

  constructor(fd: number) {
    this.handle = new (nativeBinding().FdHandle)(fd, (events, status) => this.dispatch(events, status));
  }

  get fd(): number {
    return this.handle.fd;
  }

  onReadable(handler: (() => void) | null): void {
    this.readable = handler;
    this.update();
  }

  onWritable(handler: (() => void) | null): void {
    this.writable = handler;
    this.update();
  }

  /**
   * Runs first when the fd reports an error condition (POLLERR: a socket's
   * pending error, e.g. its device went down). libuv stops watching such an
   * fd; the handler clears the condition and calls rearm() to resume.
   * Without one, the error reaches the readable handler only (a deleted
   * TAP's read() then throws), and the watch stays stopped.
   */
  onError(handler: (() => void) | null): void {
    this.error = handler;
  }

  /** Watches again what was watched before libuv stopped on an error. */
  rearm(): void {
    if (this.mask !== 0) this.handle.watch(this.mask);
  }

  /** Runs the readable handler now, if one is set (news from elsewhere that the next read() will report). */
  notifyReadable(): void {
    this.readable?.();
  }

  ref(): void {
    this.handle.ref();
  }

  unref(): void {
    this.handle.unref();
  }

  close(): void {
    this.readable = null;
    this.writable = null;
    this.error = null;
    this.handle.close();
  }

  private update(): void {
    const mask = (this.readable !== null ? READABLE : 0) | (this.writable !== null ? WRITABLE : 0);
    if (mask === this.mask) return;
    this.mask = mask;
    this.handle.watch(mask);
  }

  private dispatch(events: number, status: number): void {
    if (status < 0 && this.error !== null) this.error();
    // An error status (the fd went bad, e.g. the TAP was deleted) is reported
    // as readable: the next read() surfaces the error as a NetdevError.
    if (this.writable !== null && (events & WRITABLE || status < 0)) {
      const handler = this.writable;
      this.writable = null;
      this.update();
      handler();
    }
    if (this.readable !== null && (events & READABLE || status < 0)) this.readable();
  }
}
