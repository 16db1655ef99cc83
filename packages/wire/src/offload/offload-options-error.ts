/**
 * A bad option given to an offload component at construction (never on the
 * data path: per-frame problems are reasons, not errors). `field` names the
 * option; the message says what range it takes.
 */
export class OffloadOptionsError extends Error {
  override readonly name = 'OffloadOptionsError';
  readonly code = 'DVS_OFFLOAD_OPTIONS_INVALID';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The integer option `value` (or `fallback` when undefined), checked against min..max. */
export function integerOption(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new OffloadOptionsError(field, `must be an integer ${min}..${max}, got ${String(value)}`);
  }
  return n;
}
