/**
 * Flow export settings (sFlow v5, IPFIX) as the agent config and the admin
 * socket give them. The rules (types, defaults, limits, collector syntax,
 * resolution) are wire's flow-settings.ts, shared with the controller API's
 * cluster settings; a bad value is refused with FlowExportError naming the
 * field and the fix, and nothing changes.
 */
import { lookup } from 'node:dns/promises';
import {
  FlowExportError,
  IPFIX_DEFAULTS,
  IPFIX_PORT,
  SFLOW_DEFAULTS,
  SFLOW_PORT,
  FLOW_FIELD_LIMITS,
  checkFlowField,
  parseCollector,
  resolveCollectors as resolveWith,
  type Collector,
  type FlowNumberField,
  type IpfixSettings,
  type ResolvedCollector,
  type SflowSettings,
} from '@dvs/wire';

export {
  FlowExportError,
  IPFIX_DEFAULTS,
  IPFIX_PORT,
  SFLOW_DEFAULTS,
  SFLOW_PORT,
  checkFlowField,
  parseCollector,
  type Collector,
  type IpfixSettings,
  type ResolvedCollector,
  type SflowSettings,
};

/** Resolves every collector with this host's resolver; throws DVS_COLLECTOR_UNRESOLVED naming the field. */
export function resolveCollectors(
  collectors: readonly Collector[],
  field: string,
  signal?: AbortSignal,
): Promise<ResolvedCollector[]> {
  return resolveWith(collectors, field, lookup, signal);
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
    out[field as string] = checkFlowField(field as FlowNumberField, value, where);
  }
  return out as T;
}

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
      out[field as string] = checkFlowField(field as FlowNumberField, v, path);
    } catch {
      throw new FlowExportError('DVS_BAD_ARGUMENT', checkMessage(field as string, v, `${path}.${k}`));
    }
  }
  if (needsCollector && (out.collectors as Collector[]).length === 0)
    throw new FlowExportError('DVS_BAD_ARGUMENT', `${path}.collectors: give at least one collector (host[:port])`);
  return out as T;
}

function checkMessage(field: string, value: unknown, path: string): string {
  const [min, max] = FLOW_FIELD_LIMITS[field as FlowNumberField];
  return `${path}: must be a whole number ${min}..${max}, got ${JSON.stringify(value)}`;
}
