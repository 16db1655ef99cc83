/**
 * A small typed event emitter for the data path (which imports nothing but
 * @dvs/wire, @dvs/netdev and its own folder). Events are `noun:verb` names
 * mapped to argument tuples. Listeners run synchronously in registration
 * order. emit() lets a throwing listener propagate to the caller; emitToEach()
 * calls every listener whatever the others do (the data path delivers its
 * queued events so). No 'error' event magic, no listener limits.
 */
type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Listener<never[]>[]>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.listeners.get(event) ?? [];
    this.listeners.set(event, [...list, listener as unknown as Listener<never[]>]);
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.listeners.get(event);
    if (list === undefined) return this;
    const i = list.indexOf(listener as unknown as Listener<never[]>);
    if (i >= 0) this.listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args`; false when there was none. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    // The array is replaced, never mutated, on on/off: iterating a snapshot is safe.
    for (const l of list) (l as unknown as Listener<E[K]>)(...args);
    return true;
  }

  /** Calls every listener of `event`, each whatever the others do; returns how many threw. */
  emitToEach<K extends keyof E>(event: K, ...args: E[K]): number {
    const list = this.listeners.get(event);
    if (list === undefined) return 0;
    let threw = 0;
    for (const l of list) {
      try {
        (l as unknown as Listener<E[K]>)(...args);
      } catch {
        threw++;
      }
    }
    return threw;
  }
}
