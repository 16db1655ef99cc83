/**
 * Shared msgpack codec and schema versioning for every record.
 *
 * Every record is a msgpack map with `v: [major, minor]` first. A reader
 * accepts any minor of its major (newer minors only add optional fields, which
 * it ignores) and rejects any other major with DVS_RECORD_VERSION. Plain
 * msgpack (no msgpackr record extension) so any msgpack tool can read it.
 */
import { Packr } from 'msgpackr';
import { FieldInvalid, FieldReader, isPlainMap } from './field-reader.js';
import { RecordError } from './record-error.js';

export interface SchemaVersion {
  major: number;
  minor: number;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

/** Encodes a record's fields behind its schema version. Undefined fields are left out. */
export function encodeRecord(version: SchemaVersion, fields: object): Buffer {
  const out: Record<string, unknown> = { v: [version.major, version.minor] };
  for (const [k, val] of Object.entries(fields)) if (val !== undefined) out[k] = val;
  return packr.pack(out);
}

/**
 * Decodes and validates one record. `read` builds the full record from a
 * FieldReader (throwing FieldInvalid on the first bad field); anything thrown
 * becomes a returned RecordError.
 */
export function decodeRecord<T>(
  kind: string,
  version: SchemaVersion,
  buf: Uint8Array,
  read: (r: FieldReader) => T,
): T | RecordError {
  let value: unknown;
  try {
    value = packr.unpack(buf);
  } catch (err) {
    return new RecordError('DVS_RECORD_INVALID', kind, '(record)', `not msgpack: ${(err as Error).message}`);
  }
  if (!isPlainMap(value)) return new RecordError('DVS_RECORD_INVALID', kind, '(record)', 'expected a msgpack map');
  const v = value.v;
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff)
  ) {
    return new RecordError('DVS_RECORD_INVALID', kind, 'v', 'missing or invalid schema version [major, minor]');
  }
  const [major, minor] = v as [number, number];
  if (major !== version.major) {
    return new RecordError(
      'DVS_RECORD_VERSION',
      kind,
      'v',
      `schema ${major}.${minor} not supported (this reader understands ${version.major}.x)`,
    );
  }
  try {
    return read(new FieldReader(value));
  } catch (err) {
    if (err instanceof FieldInvalid) return new RecordError('DVS_RECORD_INVALID', kind, err.field, err.message);
    return new RecordError('DVS_RECORD_INVALID', kind, '(record)', (err as Error).message);
  }
}
