/**
 * Level-triggered readiness for what has no fd to poll (the dgram socket, the
 * fakes), shaped like uv_poll on a real fd:
 * while something is pending and a handler is set, the handler runs once per
 * event-loop turn (setImmediate, never synchronously inside the call that made
 * data pending, never a microtask storm). A handler that does not drain is
 * simply called again on the next turn, as epoll would.
 */
export class ReadableNotifier {
  private handler: (() => void) | null = null;
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly hasPending: () => boolean) {}

  set(handler: (() => void) | null): void {
    this.handler = handler;
    if (handler === null) this.cancel();
    else this.poke();
  }

  /** Call whenever data may have become pending. */
  poke(): void {
    if (this.handler === null || this.scheduled !== null || !this.hasPending()) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      if (this.handler === null || !this.hasPending()) return;
      this.handler();
      this.poke();
    });
  }

  cancel(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
  }
}
