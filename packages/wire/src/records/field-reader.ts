/**
 * Validation of decoded msgpack values. A FieldReader walks one map and
 * throws FieldInvalid on the first bad field; `decodeRecord` turns that into a
 * returned RecordError, so no caller ever sees an exception or a half-filled
 * record. Unknown fields are ignored (a newer minor version may add them).
 */
import { isCanonicalMac } from '../frames/mac.js';
import { isRecordVni, RECORD_MAX_VNI, RECORD_MIN_VNI } from './vni-range.js';

export class FieldInvalid extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Linux interface names: 1..15 bytes, no '/', ':' or whitespace. */
const PORT_NAME = /^[^/:\s]{1,15}$/;

export function isHostId(value: unknown): value is string {
  return typeof value === 'string' && HOST_ID.test(value);
}

export function isPortName(value: unknown): value is string {
  return typeof value === 'string' && PORT_NAME.test(value) && value !== '.' && value !== '..';
}

export class FieldReader {
  constructor(
    private readonly map: Record<string, unknown>,
    private readonly path: string = '',
  ) {}

  pathOf(key: string): string {
    if (key === '') return this.path;
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  private present(key: string): unknown {
    const v = this.map[key];
    if (v === undefined) throw new FieldInvalid(this.pathOf(key), 'missing');
    return v;
  }

  /** The keys of this map (for maps whose keys are data, such as labels). */
  keys(): string[] {
    return Object.keys(this.map);
  }

  has(key: string): boolean {
    return this.map[key] !== undefined && this.map[key] !== null;
  }

  string(key: string, maxLength = 1024): string {
    const v = this.present(key);
    if (typeof v !== 'string') throw new FieldInvalid(this.pathOf(key), 'expected a string');
    if (v.length > maxLength) throw new FieldInvalid(this.pathOf(key), `longer than ${maxLength} characters`);
    return v;
  }

  optionalString(key: string, maxLength = 1024): string | undefined {
    return this.has(key) ? this.string(key, maxLength) : undefined;
  }

  int(key: string, min: number, max: number): number {
    const v = this.present(key);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldInvalid(this.pathOf(key), 'expected an integer');
    if (v < min || v > max) throw new FieldInvalid(this.pathOf(key), `out of range ${min}..${max}`);
    return v;
  }

  number(key: string, min: number, max: number): number {
    const v = this.present(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldInvalid(this.pathOf(key), 'expected a number');
    if (v < min || v > max) throw new FieldInvalid(this.pathOf(key), `out of range ${min}..${max}`);
    return v;
  }

  /** Milliseconds since the epoch (non-negative safe integer). */
  time(key: string): number {
    return this.int(key, 0, Number.MAX_SAFE_INTEGER);
  }

  boolean(key: string): boolean {
    const v = this.present(key);
    if (typeof v !== 'boolean') throw new FieldInvalid(this.pathOf(key), 'expected true or false');
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.present(key);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw new FieldInvalid(this.pathOf(key), `expected one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  vni(key: string): number {
    const v = this.present(key);
    if (!isRecordVni(v))
      throw new FieldInvalid(this.pathOf(key), `VNI out of range ${RECORD_MIN_VNI}..${RECORD_MAX_VNI}`);
    return v;
  }

  mac(key: string): string {
    const v = this.present(key);
    if (!isCanonicalMac(v)) throw new FieldInvalid(this.pathOf(key), 'expected a MAC as lowercase "02:00:00:00:00:01"');
    return v;
  }

  hostId(key: string): string {
    const v = this.present(key);
    if (!isHostId(v))
      throw new FieldInvalid(this.pathOf(key), 'expected a host id (letters, digits, ".", "_", "-"; 1..63)');
    return v;
  }

  optionalHostId(key: string): string | null {
    return this.has(key) ? this.hostId(key) : null;
  }

  portName(key: string): string {
    const v = this.present(key);
    if (!isPortName(v))
      throw new FieldInvalid(this.pathOf(key), 'expected a port name (1..15 characters, no "/", ":" or spaces)');
    return v;
  }

  map_(key: string): FieldReader {
    const v = this.present(key);
    if (!isPlainMap(v)) throw new FieldInvalid(this.pathOf(key), 'expected a map');
    return new FieldReader(v, this.pathOf(key));
  }

  /** Reads an array, each element through `item` with the element's reader/value and its path. */
  array<T>(key: string, maxItems: number, item: (value: unknown, path: string) => T): T[] {
    const v = this.present(key);
    if (!Array.isArray(v)) throw new FieldInvalid(this.pathOf(key), 'expected an array');
    if (v.length > maxItems) throw new FieldInvalid(this.pathOf(key), `more than ${maxItems} items`);
    return v.map((element, i) => item(element, `${this.pathOf(key)}.${i}`));
  }
}

/** Reader for an array element that must be a map. */
export function mapAt(value: unknown, path: string): FieldReader {
  if (!isPlainMap(value)) throw new FieldInvalid(path, 'expected a map');
  return new FieldReader(value, path);
}

/** Array element that must be a string of bounded length. */
export function stringAt(value: unknown, path: string, maxLength = 256): string {
  if (typeof value !== 'string' || value.length > maxLength)
    throw new FieldInvalid(path, `expected a string (≤ ${maxLength})`);
  return value;
}

/** Array element that must be one of `allowed`. */
export function oneOfAt<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new FieldInvalid(path, `expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}
