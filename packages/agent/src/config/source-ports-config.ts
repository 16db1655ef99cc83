/**
 * `vtep.sourcePorts`: the outer UDP source ports of the userspace tunnels
 * (per-flow entropy, RFC 7348 §5, RFC 8086 §3.2). Each frame leaves from a
 * port chosen by a hash of its inner flow, so the underlay's ECMP and the
 * receivers' RSS spread flows while one flow keeps one port.
 *   - a count n (default 16): n ports the kernel picks from its ephemeral
 *     range (ip_local_port_range, the range the kernel's vxlan uses);
 *   - `{ min, max }` or "min-max": every port of that range (at most 256);
 *   - `off`: every datagram leaves from the tunnel port itself.
 */
import { MAX_SOURCE_PORTS, type SourcePortPoolOptions } from '@dvs/netdev';
import { ConfigError } from './config-error.js';

export const DEFAULT_SOURCE_PORTS: SourcePortPoolOptions = { count: 16 };

const FIX = `give a count 1..${MAX_SOURCE_PORTS} (default 16), a range \`{ min: 49152, max: 49407 }\` of at most ${MAX_SOURCE_PORTS} ports, or off`;
const FIELD = 'vtep.sourcePorts';

export function sourcePortsConfig(raw: unknown): SourcePortPoolOptions | null {
  if (raw === undefined) return DEFAULT_SOURCE_PORTS;
  if (raw === 'off' || raw === false || raw === null) return null;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 1 || raw > MAX_SOURCE_PORTS)
      throw new ConfigError(FIELD, `${raw} is not a port count 1..${MAX_SOURCE_PORTS}`, FIX);
    return { count: raw };
  }
  const range = typeof raw === 'string' ? /^(\d+)-(\d+)$/.exec(raw) : null;
  const min = range !== null ? Number(range[1]) : typeof raw === 'object' ? (raw as { min?: unknown }).min : undefined;
  const max = range !== null ? Number(range[2]) : typeof raw === 'object' ? (raw as { max?: unknown }).max : undefined;
  if (typeof raw === 'object' && Object.keys(raw as object).some((k) => k !== 'min' && k !== 'max'))
    throw new ConfigError(FIELD, `unknown field in ${JSON.stringify(raw)}`, FIX);
  if (typeof min !== 'number' || typeof max !== 'number')
    throw new ConfigError(FIELD, `${JSON.stringify(raw)} is neither a count, a range nor off`, FIX);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max)
    throw new ConfigError(FIELD, `${min}..${max} is not a port range (1 <= min <= max <= 65535)`, FIX);
  if (max - min + 1 > MAX_SOURCE_PORTS)
    throw new ConfigError(FIELD, `${min}..${max} holds ${max - min + 1} ports, more than ${MAX_SOURCE_PORTS}`, FIX);
  return { min, max };
}
