/**
 * Validation of API input (pure): every function returns the clean value or
 * throws ApiError naming the field. Used for bodies, path and query params.
 */
import { canonicalIpAddress, canonicalMac, MAX_VNI, MIN_VNI, isValidVni } from '@dvs/wire';
import { ApiError } from './api-error.js';

export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('DVS_INVALID_JSON', 'request body must be a JSON object');
  }
  return value as Body;
}

export function rejectUnknown(body: Body, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new ApiError(
        'DVS_FIELD_UNKNOWN',
        `unknown field "${prefix}${key}" (allowed: ${allowed.join(', ')})`,
        prefix + key,
      );
    }
  }
}

export function required(body: Body, field: string, prefix = ''): unknown {
  const v = body[field];
  if (v === undefined || v === null)
    throw new ApiError('DVS_FIELD_MISSING', `${prefix}${field} is required`, prefix + field);
  return v;
}

export function vniValue(value: unknown, field = 'vni'): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!isValidVni(n)) {
    throw new ApiError(
      'DVS_VNI_OUT_OF_RANGE',
      `${field} must be an integer in ${MIN_VNI}..${MAX_VNI} (got ${JSON.stringify(value)})`,
      field,
    );
  }
  return n;
}

export function macValue(value: unknown, field = 'mac'): string {
  const mac = typeof value === 'string' ? canonicalMac(value) : null;
  if (mac === null) {
    throw new ApiError(
      'DVS_MAC_INVALID',
      `${field} must be a MAC like 02:00:00:00:00:01 (got ${JSON.stringify(value)})`,
      field,
    );
  }
  return mac;
}

export function stringValue(
  value: unknown,
  field: string,
  pattern: RegExp | null,
  maxLength: number,
  hint: string,
): string {
  if (typeof value !== 'string' || value.length > maxLength || (pattern !== null && !pattern.test(value))) {
    throw new ApiError('DVS_FIELD_INVALID', `${field} must be ${hint} (got ${JSON.stringify(value)})`, field);
  }
  return value;
}

/** A record's free-text `description`: `fallback` when absent, else a string of at most 1024 characters. */
export function descriptionValue(value: unknown, fallback: string): string {
  return value === undefined ? fallback : stringValue(value, 'description', null, 1024, 'a string (≤ 1024)');
}

export function intValue(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `${field} must be an integer in ${min}..${max} (got ${JSON.stringify(value)})`,
      field,
    );
  }
  return value;
}

export function boolValue(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ApiError('DVS_FIELD_INVALID', `${field} must be true or false`, field);
  return value;
}

/** An underlay address, stored in its canonical spelling ("2001:DB8::0:1" → "2001:db8::1"), as agents name peers. */
export function addressValue(value: unknown, field: string): string {
  const address = typeof value === 'string' ? canonicalIpAddress(value) : null;
  if (address === null) {
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `${field} must be an IPv4 or IPv6 address (got ${JSON.stringify(value)})`,
      field,
    );
  }
  return address;
}

export function udpPortValue(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return intValue(n, field, 1, 65535);
}

export function ipsValue(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length > 64)
    throw new ApiError('DVS_FIELD_INVALID', `${field} must be a list of IP addresses`, field);
  return value.map((ip, i) => addressValue(ip, `${field}.${i}`));
}
