/**
 * The addon takes slot indexes as a Uint32Array. Callers may pass any
 * ArrayLike<number>; anything else is copied into one preallocated array per
 * device (no allocation per call).
 */
export class SlotList {
  private readonly scratch = new Uint32Array(1024);

  of(slots: ArrayLike<number>, n: number): Uint32Array {
    if (slots instanceof Uint32Array) return slots;
    for (let i = 0; i < n; i++) this.scratch[i] = slots[i];
    return this.scratch;
  }
}
