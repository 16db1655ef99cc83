// A reusable view of a scratch Uint8Array that throws on any index read
// outside a window [lo, hi) and reports `length` as the bytes present: the
// fuzz tests hand it to decoders to prove they never read outside the bytes
// they were given (a plain typed array would silently return undefined).
// One Proxy per fuzz subject, re-aimed per input, keeps the cost per input low.

export class OutOfBoundsRead extends Error {
  readonly code = 'TEST_OUT_OF_BOUNDS_READ';
  constructor(index: string, lo: number, hi: number) {
    super(`read of index ${index} outside [${lo}, ${hi})`);
  }
}

export interface BoundedView {
  /** The guarded view to hand to a decoder. */
  readonly view: Uint8Array;
  /** Aims the view: reads allowed in [lo, hi), `view.length` reports `length`. */
  aim(lo: number, hi: number, length: number): void;
}

export function boundedView(scratch: Uint8Array): BoundedView {
  let lo = 0;
  let hi = 0;
  let length = 0;
  const view = new Proxy(scratch, {
    get(t, key) {
      if (typeof key === 'string') {
        // Integer-indexed reads arrive as canonical numeric strings.
        const index = +key;
        if (index === (index | 0)) {
          if (index < lo || index >= hi) throw new OutOfBoundsRead(key, lo, hi);
          return t[index];
        }
        if (key === 'length') return length;
        if (key === 'NaN' || key === 'Infinity' || key === '-Infinity' || index === index) {
          throw new OutOfBoundsRead(key, lo, hi);
        }
      }
      throw new Error(`decoders read only indices and length, not ${String(key)}`);
    },
    set() {
      throw new Error('decoders must not write to their input');
    },
  });
  return {
    view,
    aim(newLo, newHi, newLength) {
      lo = newLo;
      hi = newHi;
      length = newLength;
    },
  };
}
