/**
 * Logs keys that do not decode once per record kind, with how many there
 * are, never one line per key: the first of a kind at once, then at most one
 * line a minute while their number grows. `dvs status` shows the counts
 * (`record-invalid`), the metrics too (`dvs_controller_invalid_records`).
 */
import type { KeyKind, RecordError } from '@dvs/wire';
import type { Logger } from '../log.js';

const REPEAT_MS = 60_000;

export class InvalidRecordLog {
  private readonly last = new Map<KeyKind, { at: number; total: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  note(kind: KeyKind, fresh: number, total: number, example: { key: string; error: RecordError }): void {
    const now = this.clock();
    const last = this.last.get(kind);
    if (last !== undefined && (now - last.at < REPEAT_MS || total <= last.total)) return;
    this.last.set(kind, { at: now, total });
    this.log.warn('ignoring records that do not decode', {
      kind,
      count: total,
      new: fresh,
      key: example.key,
      code: example.error.code,
      field: example.error.field,
      error: example.error.message,
    });
  }
}
