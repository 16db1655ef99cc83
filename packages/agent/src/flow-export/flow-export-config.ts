/**
 * Flow export settings (sFlow v5, IPFIX), as the agent config, the admin
 * socket and the CLI give them, and the one place that checks them. A bad
 * value is refused with an error naming the field and the fix, and nothing
 * changes (FlowExportError, code DVS_BAD_ARGUMENT, or
 * DVS_COLLECTOR_UNRESOLVED for a collector whose name does not resolve).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { IPFIX_DEFAULT_PORT, SFLOW_DEFAULT_HEADER_BYTES, SFLOW_DEFAULT_PORT } from '@dvs/wire';

export type FlowExportErrorCode = 'DVS_BAD_ARGUMENT' | 'DVS_COLLECTOR_UNRESOLVED';

export class FlowExportError extends Error {
  override readonly name = 'FlowExportError';
  constructor(
    readonly code: FlowExportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A collector as given ("host", "host:port", "[v6]:port") and as resolved. */
export interface Collector {
  host: string;
  port: number;
}

export interface ResolvedCollector extends Collector {
  address: string;
  family: 4 | 6;
}

export interface SflowSettings {
  collectors: Collector[];
  /** 1-in-N packet sampling per port. */
  sampling: number;
  /** Counter samples per port every this many seconds (0: none). */
  pollingS: number;
  /** Bytes of each sampled frame sent (sFlow's sampled header). */
  headerBytes: number;
}

export interface IpfixSettings {
  collectors: Collector[];
  /** A flow active this long is reported and starts a new record. */
  activeTimeoutS: number;
  /** A flow idle this long ends. */
  idleTimeoutS: number;
  /** The templates are sent again this often (UDP: collectors may have missed them). */
  templateRefreshS: number;
  /** Flows the cache holds; new flows beyond it are counted, not recorded. */
  cacheSize: number;
  observationDomain: number;
}

export const SFLOW_DEFAULTS: Omit<SflowSettings, 'collectors'> = {
  sampling: 1000,
  pollingS: 20,
  headerBytes: SFLOW_DEFAULT_HEADER_BYTES,
};

export const IPFIX_DEFAULTS: Omit<IpfixSettings, 'collectors'> = {
  activeTimeoutS: 60,
  idleTimeoutS: 15,
  templateRefreshS: 60,
  cacheSize: 65536,
  observationDomain: 1,
};

/** Limits of each numeric field: [min, max]. */
const LIMITS: Record<string, readonly [number, number]> = {
  sampling: [1, 1 << 24],
  pollingS: [0, 3600],
  headerBytes: [14, 256],
  activeTimeoutS: [1, 86400],
  idleTimeoutS: [1, 86400],
  templateRefreshS: [1, 86400],
  cacheSize: [16, 1 << 20],
  observationDomain: [0, 0xffffffff],
};

/** Checks one numeric field; throws naming it. */
export function checkFlowField(field: string, value: unknown, where: string): number {
  const [min, max] = LIMITS[field] ?? [0, Number.MAX_SAFE_INTEGER];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new FlowExportError(
      'DVS_BAD_ARGUMENT',
      `${where}.${field}: must be a whole number ${min}..${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

/** Parses "host", "host:port" or "[v6addr]:port"; throws naming `field`. */
export function parseCollector(text: string, defaultPort: number, field: string): Collector {
  const bad = (why: string): FlowExportError =>
    new FlowExportError('DVS_BAD_ARGUMENT', `${field}: "${text}" ${why}; write host[:port] or [IPv6]:port`);
  let host = text;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIP(text) !== 6) {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) throw bad('is not a collector address');
    host = m[1]!;
    if (m[2] !== undefined) port = Number(m[2]);
  }
  if (host.length === 0) throw bad('has no host');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('has a port outside 1..65535');
  return { host, port };
}

/** Resolves every collector; throws DVS_COLLECTOR_UNRESOLVED naming the field and the name. */
export async function resolveCollectors(
  collectors: readonly Collector[],
  field: string,
  signal?: AbortSignal,
): Promise<ResolvedCollector[]> {
  const out: ResolvedCollector[] = [];
  for (const c of collectors) {
    signal?.throwIfAborted();
    const literal = isIP(c.host);
    if (literal !== 0) {
      out.push({ ...c, address: c.host, family: literal as 4 | 6 });
      continue;
    }
    try {
      const r = await lookup(c.host);
      out.push({ ...c, address: r.address, family: r.family === 6 ? 6 : 4 });
    } catch (err) {
      throw new FlowExportError(
        'DVS_COLLECTOR_UNRESOLVED',
        `${field}: collector "${c.host}" does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give an IP address or a name this host resolves`,
      );
    }
  }
  return out;
}

/** Settings from `key=value` words (admin socket, CLI): throws naming the key. */
export function applyWords<T extends object>(
  base: T,
  words: readonly string[],
  keys: Record<string, keyof T>,
  where: string,
): T {
  const out = { ...base } as Record<string, unknown>;
  for (const w of words) {
    const m = /^([a-z-]+)=(.*)$/.exec(w);
    const field = m ? keys[m[1]!] : undefined;
    if (!m || field === undefined)
      throw new FlowExportError(
        'DVS_BAD_ARGUMENT',
        `${where}: "${w}" is not one of ${Object.keys(keys)
          .map((k) => `${k}=N`)
          .join(', ')}`,
      );
    const value = /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2];
    out[field as string] = checkFlowField(field as string, value, where);
  }
  return out as T;
}

export const SFLOW_PORT = SFLOW_DEFAULT_PORT;
export const IPFIX_PORT = IPFIX_DEFAULT_PORT;

/** `flowExport:` of the agent config: what the agent turns on at start (static setups). */
export interface FlowExportConfig {
  sflow: SflowSettings | null;
  ipfix: IpfixSettings | null;
}

const SFLOW_CONFIG_KEYS: Record<string, keyof SflowSettings> = {
  sampling: 'sampling',
  pollingSeconds: 'pollingS',
  headerBytes: 'headerBytes',
};
const IPFIX_CONFIG_KEYS: Record<string, keyof IpfixSettings> = {
  activeTimeoutSeconds: 'activeTimeoutS',
  idleTimeoutSeconds: 'idleTimeoutS',
  templateRefreshSeconds: 'templateRefreshS',
  cacheSize: 'cacheSize',
  observationDomain: 'observationDomain',
};

/**
 * Checks `flowExport: { sflow: { collectors: [host:port…], sampling, pollingSeconds, headerBytes },
 * ipfix: { collectors: […] (empty: cache only), activeTimeoutSeconds, idleTimeoutSeconds,
 * templateRefreshSeconds, cacheSize, observationDomain } }`; throws FlowExportError naming the
 * field (`flowExport.sflow.sampling`). Names are resolved when the agent starts.
 */
export function flowExportFromConfig(raw: unknown): FlowExportConfig {
  if (raw === undefined || raw === null) return { sflow: null, ipfix: null };
  const top = section(raw, 'flowExport');
  for (const k of Object.keys(top))
    if (k !== 'sflow' && k !== 'ipfix')
      throw new FlowExportError('DVS_BAD_ARGUMENT', `flowExport.${k}: unknown field (sflow, ipfix)`);
  const sflow =
    top.sflow === undefined || top.sflow === null
      ? null
      : settings<SflowSettings>(top.sflow, 'flowExport.sflow', SFLOW_PORT, SFLOW_DEFAULTS, SFLOW_CONFIG_KEYS, true);
  const ipfix =
    top.ipfix === undefined || top.ipfix === null
      ? null
      : settings<IpfixSettings>(top.ipfix, 'flowExport.ipfix', IPFIX_PORT, IPFIX_DEFAULTS, IPFIX_CONFIG_KEYS, false);
  return { sflow, ipfix };
}

function section(raw: unknown, path: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FlowExportError('DVS_BAD_ARGUMENT', `${path}: must be a mapping (key: value)`);
  return raw as Record<string, unknown>;
}

function settings<T extends { collectors: Collector[] }>(
  raw: unknown,
  path: string,
  defaultPort: number,
  defaults: Omit<T, 'collectors'>,
  keys: Record<string, keyof T>,
  needsCollector: boolean,
): T {
  const o = section(raw, path);
  const out = { ...defaults, collectors: [] as Collector[] } as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'collectors') {
      if (!Array.isArray(v) || v.some((c) => typeof c !== 'string'))
        throw new FlowExportError('DVS_BAD_ARGUMENT', `${path}.collectors: give a list of host[:port]`);
      out.collectors = (v as string[]).map((c, i) => parseCollector(c, defaultPort, `${path}.collectors[${i}]`));
      continue;
    }
    const field = keys[k];
    if (field === undefined)
      throw new FlowExportError(
        'DVS_BAD_ARGUMENT',
        `${path}.${k}: unknown field (collectors, ${Object.keys(keys).join(', ')})`,
      );
    try {
      out[field as string] = checkFlowField(field as string, v, path);
    } catch {
      throw new FlowExportError('DVS_BAD_ARGUMENT', checkMessage(field as string, v, `${path}.${k}`));
    }
  }
  if (needsCollector && (out.collectors as Collector[]).length === 0)
    throw new FlowExportError('DVS_BAD_ARGUMENT', `${path}.collectors: give at least one collector (host[:port])`);
  return out as T;
}

function checkMessage(field: string, value: unknown, path: string): string {
  const [min, max] = LIMITS[field] ?? [0, 0];
  return `${path}: must be a whole number ${min}..${max}, got ${JSON.stringify(value)}`;
}
