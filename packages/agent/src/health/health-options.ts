/**
 * Tunnel health settings, BFD-like: a probe every `intervalMs`; a tunnel is
 * declared down after `multiplier` intervals without a reply (the detection
 * time) and up again after `upAfter` replies to consecutive probes.
 */
export interface HealthOptions {
  /** Probe interval in ms. Default 1000. */
  intervalMs: number;
  /** Intervals without a reply before a tunnel goes down. Default 3. */
  multiplier: number;
  /** Replies to consecutive probes needed to go up. Default 3. */
  upAfter: number;
  /** Probes kept for RTT and loss statistics. Default 100. */
  windowSize: number;
  /** How long a removed peer stays listed (down, `peer removed`) in ms. Default 60000. */
  removedLingerMs: number;
}

export const DEFAULT_HEALTH_OPTIONS: HealthOptions = {
  intervalMs: 1000,
  multiplier: 3,
  upAfter: 3,
  windowSize: 100,
  removedLingerMs: 60_000,
};

export class HealthOptionsError extends Error {
  override readonly name = 'HealthOptionsError';
  readonly code = 'DVS_CONFIG_INVALID';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`health.${field}: ${message}`);
    this.field = field;
  }
}

const LIMITS: Record<keyof HealthOptions, [min: number, max: number]> = {
  intervalMs: [10, 60_000],
  multiplier: [1, 255],
  upAfter: [1, 255],
  windowSize: [1, 10_000],
  removedLingerMs: [0, 86_400_000],
};

/** Fills defaults and checks ranges; throws HealthOptionsError naming the field and the allowed range. */
export function resolveHealthOptions(partial: Partial<HealthOptions> = {}): HealthOptions {
  const out = { ...DEFAULT_HEALTH_OPTIONS };
  for (const field of Object.keys(LIMITS) as (keyof HealthOptions)[]) {
    const value = partial[field];
    if (value === undefined) continue;
    const [min, max] = LIMITS[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new HealthOptionsError(field, `must be an integer in ${min}..${max}, got ${String(value)}`);
    }
    out[field] = value;
  }
  return out;
}
