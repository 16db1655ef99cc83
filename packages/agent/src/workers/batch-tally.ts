/**
 * How full a worker's reads are: every call of a device's read() or a
 * socket's recv() counted, with the frames (slots) it brought. Frames per
 * non-empty call is the batch size; calls that brought nothing are wake-ups
 * for no work. Counted at the worker's edge (a Proxy around the device or
 * socket), so the data path is not touched.
 */
export interface BatchTally {
  calls: number;
  nonEmpty: number;
  items: number;
}

export function newBatchTally(): BatchTally {
  return { calls: 0, nonEmpty: 0, items: 0 };
}

/** `target` with `method` counted into `tally`; every other member passes through. */
export function tallied<T extends object>(target: T, method: 'read' | 'recv', tally: BatchTally): T {
  const original = Reflect.get(target, method) as (...args: unknown[]) => number;
  const counted = (...args: unknown[]): number => {
    const n = original.apply(target, args);
    tally.calls++;
    if (n > 0) {
      tally.nonEmpty++;
      tally.items += n;
    }
    return n;
  };
  return new Proxy(target, { get: (t, key) => (key === method ? counted : Reflect.get(t, key, t)) });
}
