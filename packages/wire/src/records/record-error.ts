/**
 * The one error type of record decoding and key building. Decoders return it
 * (never throw it); callers match on `code` and read `field` to say what is
 * wrong. A record is either fully valid or a RecordError, never half-filled.
 */
export type RecordErrorCode =
  /** Not msgpack, not a map, or a field missing / of the wrong type / out of range. */
  | 'DVS_RECORD_INVALID'
  /** The record's schema major version is newer (or older) than this code understands. */
  | 'DVS_RECORD_VERSION';

export class RecordError extends Error {
  override readonly name = 'RecordError';
  readonly code: RecordErrorCode;
  /** Dotted path of the offending field (`vtep.port`, `peers.2.state`), or `(record)` for the whole value. */
  readonly field: string;
  /** Record kind being decoded (`host`, `fdb-entry`, …). */
  readonly record: string;

  constructor(code: RecordErrorCode, record: string, field: string, message: string) {
    super(`${record} record: ${field}: ${message}`);
    this.code = code;
    this.record = record;
    this.field = field;
  }
}

export function isRecordError(value: unknown): value is RecordError {
  return value instanceof RecordError;
}
