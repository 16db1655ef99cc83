/**
 * The cluster's flow export in etcd (`flow-export/sflow`, `flow-export/ipfix`,
 * wire's records/flow-export.ts): every agent follows it and exports with it
 * unless the host has its own setting. Written directly, read back by the
 * client.
 *
 * The body is checked by wire's flow-settings.ts, the rules the agent applies
 * to its own settings: a sampling rate of 0, an unknown field, a collector
 * that is not host[:port] or whose name does not resolve here (code
 * DVS_COLLECTOR_UNRESOLVED) is refused naming the field, and nothing is
 * written. Each agent resolves the names again with its own resolver.
 */
import { lookup } from 'node:dns/promises';
import {
  FlowExportError,
  IPFIX_DEFAULTS,
  IPFIX_NUMBER_FIELDS,
  IPFIX_PORT,
  MAX_COLLECTORS,
  RecordError,
  SFLOW_DEFAULTS,
  SFLOW_NUMBER_FIELDS,
  SFLOW_PORT,
  checkIpfixSettings,
  checkSflowSettings,
  decodeIpfixRecord,
  decodeSflowRecord,
  encodeIpfixRecord,
  encodeSflowRecord,
  parseCollector,
  resolveCollectors,
  type Collector,
  type FlowExporterName,
  type HostLookup,
  type IpfixRecord,
  type KeyLayout,
  type SflowRecord,
} from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { ApiError } from './api-error.js';
import { asBody, rejectUnknown, type Body } from './input.js';

export type FlowExportRecord = SflowRecord | IpfixRecord;

interface ExporterRules {
  defaultPort: number;
  defaults: Record<string, number>;
  numbers: readonly string[];
  /** The shared rules (sFlow needs a collector; IPFIX without one keeps the flow cache only). */
  check: (record: FlowExportRecord) => void;
  encode: (record: FlowExportRecord) => Buffer;
  decode: (buf: Uint8Array) => FlowExportRecord | RecordError;
}

const RULES: Record<FlowExporterName, ExporterRules> = {
  sflow: {
    defaultPort: SFLOW_PORT,
    defaults: SFLOW_DEFAULTS,
    numbers: SFLOW_NUMBER_FIELDS,
    check: (r) => checkSflowSettings(r as SflowRecord, ''),
    encode: (r) => encodeSflowRecord(r as SflowRecord),
    decode: decodeSflowRecord,
  },
  ipfix: {
    defaultPort: IPFIX_PORT,
    defaults: IPFIX_DEFAULTS,
    numbers: IPFIX_NUMBER_FIELDS,
    check: (r) => checkIpfixSettings(r as IpfixRecord, ''),
    encode: (r) => encodeIpfixRecord(r as IpfixRecord),
    decode: decodeIpfixRecord,
  },
};

/** A FlowExportError of the shared rules as the API's error, the field kept. */
function apiError(err: unknown): unknown {
  if (!(err instanceof FlowExportError)) return err;
  const code = err.code === 'DVS_COLLECTOR_UNRESOLVED' ? 'DVS_COLLECTOR_UNRESOLVED' : 'DVS_FIELD_INVALID';
  return new ApiError(code, err.message, err.field);
}

function collectorsOf(body: Body, defaultPort: number): Collector[] {
  const raw = body.collectors;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length > MAX_COLLECTORS || raw.some((c) => typeof c !== 'string'))
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `collectors: give a list of at most ${MAX_COLLECTORS} "host[:port]" strings`,
      'collectors',
    );
  return (raw as string[]).map((text, i) => parseCollector(text, defaultPort, `collectors[${i}]`));
}

export class FlowExportStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly clock: () => number = Date.now,
    private readonly resolve: HostLookup = lookup,
  ) {}

  /** The cluster's setting, or null when there is none (or it does not decode). */
  async get(exporter: FlowExporterName): Promise<FlowExportRecord | null> {
    const value = await this.client.get(this.keys.flowExport(exporter)).buffer();
    if (value === null) return null;
    const record = RULES[exporter].decode(value);
    return record instanceof RecordError ? null : record;
  }

  /**
   * Sets the whole setting: fields left out take their defaults. Collectors
   * are "host[:port]" strings (the exporter's port by default).
   */
  async set(exporter: FlowExporterName, raw: unknown): Promise<FlowExportRecord> {
    const rules = RULES[exporter];
    const body = asBody(raw);
    rejectUnknown(body, ['collectors', ...rules.numbers]);
    let record: FlowExportRecord;
    try {
      const numbers: Record<string, unknown> = { ...rules.defaults };
      for (const f of rules.numbers) if (body[f] !== undefined) numbers[f] = body[f];
      record = {
        collectors: collectorsOf(body, rules.defaultPort),
        ...numbers,
        updatedAt: this.clock(),
      } as FlowExportRecord;
      rules.check(record);
      await resolveCollectors(record.collectors, 'collectors', this.resolve);
    } catch (err) {
      throw apiError(err);
    }
    await this.client.put(this.keys.flowExport(exporter)).value(rules.encode(record)).exec();
    return record;
  }

  /** Clears the cluster's setting (returns what it was): agents without their own stop exporting. */
  async clear(exporter: FlowExporterName): Promise<FlowExportRecord | null> {
    const found = await this.get(exporter);
    const res = await this.client.delete().key(this.keys.flowExport(exporter)).exec();
    if (Number(res.deleted) === 0)
      throw new ApiError('DVS_NOT_FOUND', `the cluster has no ${exporter} setting`, exporter);
    return found;
  }
}
