/**
 * Flow export settings (sFlow v5, IPFIX) and the one place that checks them,
 * for every form they come in: the agent config and admin socket, the
 * controller API (the cluster's `flow-export/sflow|ipfix` records) and the
 * CLI. A bad value is refused with FlowExportError naming the field and the
 * fix (code DVS_BAD_ARGUMENT, or DVS_COLLECTOR_UNRESOLVED for a collector
 * whose name does not resolve).
 *
 * Resolving a name needs the host's resolver: the caller passes its lookup
 * (node:dns/promises `lookup`), so this module stays pure.
 */
import { ipFamily } from '../frames/ip-address.js';
import { IPFIX_DEFAULT_PORT } from './ipfix.js';
import { SFLOW_DEFAULT_HEADER_BYTES, SFLOW_DEFAULT_PORT } from './sflow.js';

export type FlowExportErrorCode = 'DVS_BAD_ARGUMENT' | 'DVS_COLLECTOR_UNRESOLVED';

export class FlowExportError extends Error {
  override readonly name = 'FlowExportError';
  constructor(
    readonly code: FlowExportErrorCode,
    message: string,
    /** The field at fault (`sflow.sampling`, `collectors[0]`). */
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** A collector as given ("host", "host:port", "[v6]:port"). */
export interface Collector {
  host: string;
  port: number;
}

/** A collector and the address its host resolved to. */
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
  /** Empty: the flow cache only (top talkers), nothing exported. */
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

export const SFLOW_NUMBER_FIELDS = ['sampling', 'pollingS', 'headerBytes'] as const;
export const IPFIX_NUMBER_FIELDS = [
  'activeTimeoutS',
  'idleTimeoutS',
  'templateRefreshS',
  'cacheSize',
  'observationDomain',
] as const;
export type FlowNumberField = (typeof SFLOW_NUMBER_FIELDS)[number] | (typeof IPFIX_NUMBER_FIELDS)[number];

/** Most collectors one exporter sends to. */
export const MAX_COLLECTORS = 8;

/** Limits of each numeric field: [min, max]. */
export const FLOW_FIELD_LIMITS: Readonly<Record<FlowNumberField, readonly [number, number]>> = {
  sampling: [1, 1 << 24],
  pollingS: [0, 3600],
  headerBytes: [14, 256],
  activeTimeoutS: [1, 86400],
  idleTimeoutS: [1, 86400],
  templateRefreshS: [1, 86400],
  cacheSize: [16, 1 << 20],
  observationDomain: [0, 0xffffffff],
};

function pathOf(where: string, field: string): string {
  return where === '' ? field : `${where}.${field}`;
}

/** Checks one numeric field; throws naming it (`${where}.${field}`, or `field` when `where` is ''). */
export function checkFlowField(field: FlowNumberField, value: unknown, where: string): number {
  const [min, max] = FLOW_FIELD_LIMITS[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const path = pathOf(where, field);
    throw new FlowExportError(
      'DVS_BAD_ARGUMENT',
      `${path}: must be a whole number ${min}..${max}, got ${JSON.stringify(value)}`,
      path,
    );
  }
  return value;
}

/** Checks every field of sFlow settings (at least one collector); throws naming the first bad one. */
export function checkSflowSettings(s: SflowSettings, where: string): void {
  for (const f of SFLOW_NUMBER_FIELDS) checkFlowField(f, s[f], where);
  checkCollectorCount(s.collectors, pathOf(where, 'collectors'), 1);
}

/** Checks every field of IPFIX settings (no collector: the cache only); throws naming the first bad one. */
export function checkIpfixSettings(s: IpfixSettings, where: string): void {
  for (const f of IPFIX_NUMBER_FIELDS) checkFlowField(f, s[f], where);
  checkCollectorCount(s.collectors, pathOf(where, 'collectors'), 0);
}

function checkCollectorCount(collectors: readonly Collector[], field: string, min: number): void {
  if (collectors.length < min)
    throw new FlowExportError('DVS_BAD_ARGUMENT', `${field}: give at least one collector (host[:port])`, field);
  if (collectors.length > MAX_COLLECTORS)
    throw new FlowExportError('DVS_BAD_ARGUMENT', `${field}: at most ${MAX_COLLECTORS} collectors`, field);
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})$/;

/** Parses "host", "host:port" or "[v6addr]:port"; throws naming `field`. */
export function parseCollector(text: string, defaultPort: number, field: string): Collector {
  const bad = (why: string): FlowExportError =>
    new FlowExportError('DVS_BAD_ARGUMENT', `${field}: "${text}" ${why}; write host[:port] or [IPv6]:port`, field);
  let host = text;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    if (ipFamily(host) !== 6) throw bad('has no IPv6 address inside [ ]');
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (ipFamily(text) !== 6) {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) throw bad('is not a collector address');
    host = m[1]!;
    if (m[2] !== undefined) port = Number(m[2]);
    if (ipFamily(host) === 0 && !HOST_NAME.test(host)) throw bad('is neither an IP address nor a host name');
  }
  if (host.length === 0) throw bad('has no host');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('has a port outside 1..65535');
  return { host, port };
}

/** The text form of a collector, as parseCollector reads it back. */
export function collectorText(c: Collector): string {
  return ipFamily(c.host) === 6 ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`;
}

/** A name lookup (node:dns/promises `lookup` fits). */
export type HostLookup = (host: string) => Promise<{ address: string; family: number }>;

/** Resolves every collector; throws DVS_COLLECTOR_UNRESOLVED naming the field (`${field}[i]`) and the name. */
export async function resolveCollectors(
  collectors: readonly Collector[],
  field: string,
  lookup: HostLookup,
  signal?: AbortSignal,
): Promise<ResolvedCollector[]> {
  const out: ResolvedCollector[] = [];
  for (const [i, c] of collectors.entries()) {
    signal?.throwIfAborted();
    const literal = ipFamily(c.host);
    if (literal !== 0) {
      out.push({ ...c, address: c.host, family: literal });
      continue;
    }
    try {
      const r = await lookup(c.host);
      out.push({ ...c, address: r.address, family: r.family === 6 ? 6 : 4 });
    } catch (err) {
      throw new FlowExportError(
        'DVS_COLLECTOR_UNRESOLVED',
        `${field}[${i}]: collector "${c.host}" does not resolve (${(err as { code?: string }).code ?? (err as Error).message}); give an IP address or a name this host resolves`,
        `${field}[${i}]`,
      );
    }
  }
  return out;
}

export const SFLOW_PORT = SFLOW_DEFAULT_PORT;
export const IPFIX_PORT = IPFIX_DEFAULT_PORT;
