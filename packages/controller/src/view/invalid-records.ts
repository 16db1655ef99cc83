/**
 * Keys whose value does not decode, counted by record kind. A keyspace can
 * hold tens of thousands of them (a writer with a bug, a newer major
 * version): they are counted and named once per kind, never logged one line
 * per key. `dvs status` shows each kind with its count (`record-invalid`).
 */
import type { KeyKind, RecordError } from '@dvs/wire';

export interface InvalidKind {
  count: number;
  /** One key of the kind and why it does not decode (the newest seen). */
  example: { key: string; error: RecordError };
}

export class InvalidRecords {
  private readonly byKey = new Map<string, KeyKind>();
  private readonly kinds = new Map<KeyKind, InvalidKind>();

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** Records `key` as not decoding; true when it was not counted before. */
  add(key: string, kind: KeyKind, error: RecordError): boolean {
    const known = this.byKey.get(key);
    if (known !== undefined) {
      this.kinds.get(known)!.example = { key, error };
      return false;
    }
    this.byKey.set(key, kind);
    const k = this.kinds.get(kind);
    if (k === undefined) this.kinds.set(kind, { count: 1, example: { key, error } });
    else {
      k.count++;
      k.example = { key, error };
    }
    return true;
  }

  /** The key decodes now, or is gone. */
  delete(key: string): void {
    const kind = this.byKey.get(key);
    if (kind === undefined) return;
    this.byKey.delete(key);
    const k = this.kinds.get(kind)!;
    if (--k.count === 0) this.kinds.delete(kind);
  }

  /** Counts by kind, kinds in name order. */
  byKind(): [KeyKind, InvalidKind][] {
    return [...this.kinds].sort((a, b) => a[0].localeCompare(b[0]));
  }
}
