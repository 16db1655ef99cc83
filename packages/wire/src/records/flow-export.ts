/**
 * `flow-export/sflow` and `flow-export/ipfix` — written by the controller
 * (HTTP API): the cluster's sFlow and IPFIX settings. Every agent follows
 * them (inside its read range `[flow-export/, networks0)`) and exports with
 * them unless the host has its own setting (its static config or the admin
 * socket's `sflow/set`), which overrides the cluster's on that host.
 *
 * The settings obey the same rules as the agent's own (flow-settings.ts):
 * a record that breaks them does not decode.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, mapAt, type FieldReader } from './field-reader.js';
import type { RecordError } from './record-error.js';
import {
  FLOW_FIELD_LIMITS,
  IPFIX_NUMBER_FIELDS,
  MAX_COLLECTORS,
  SFLOW_NUMBER_FIELDS,
  checkIpfixSettings,
  checkSflowSettings,
  type Collector,
  type FlowNumberField,
  type IpfixSettings,
  type SflowSettings,
} from '../flow-export/flow-settings.js';

export const FLOW_EXPORT_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

/** The two exporters a cluster setting exists for (the key's last part). */
export const FLOW_EXPORTERS = ['sflow', 'ipfix'] as const;
export type FlowExporterName = (typeof FLOW_EXPORTERS)[number];

export interface SflowRecord extends SflowSettings {
  updatedAt: number;
}

export interface IpfixRecord extends IpfixSettings {
  updatedAt: number;
}

export function encodeSflowRecord(record: SflowRecord): Buffer {
  return encodeRecord(FLOW_EXPORT_RECORD_VERSION, record);
}

export function encodeIpfixRecord(record: IpfixRecord): Buffer {
  return encodeRecord(FLOW_EXPORT_RECORD_VERSION, record);
}

export function decodeSflowRecord(buf: Uint8Array): SflowRecord | RecordError {
  return decodeRecord('sflow', FLOW_EXPORT_RECORD_VERSION, buf, (r) => {
    const record = {
      collectors: collectorsOf(r),
      ...numbers(r, SFLOW_NUMBER_FIELDS),
      updatedAt: r.time('updatedAt'),
    } as SflowRecord;
    checked(() => checkSflowSettings(record, ''));
    return record;
  });
}

export function decodeIpfixRecord(buf: Uint8Array): IpfixRecord | RecordError {
  return decodeRecord('ipfix', FLOW_EXPORT_RECORD_VERSION, buf, (r) => {
    const record = {
      collectors: collectorsOf(r),
      ...numbers(r, IPFIX_NUMBER_FIELDS),
      updatedAt: r.time('updatedAt'),
    } as IpfixRecord;
    checked(() => checkIpfixSettings(record, ''));
    return record;
  });
}

function collectorsOf(r: FieldReader): Collector[] {
  return r.array('collectors', MAX_COLLECTORS, (v, path) => {
    const m = mapAt(v, path);
    return { host: m.string('host', 253), port: m.int('port', 1, 65535) };
  });
}

function numbers<F extends FlowNumberField>(r: FieldReader, fields: readonly F[]): Record<F, number> {
  const out = {} as Record<F, number>;
  for (const f of fields) out[f] = r.int(f, FLOW_FIELD_LIMITS[f][0], FLOW_FIELD_LIMITS[f][1]);
  return out;
}

function checked(check: () => void): void {
  try {
    check();
  } catch (err) {
    throw new FieldInvalid((err as { field?: string }).field ?? '(record)', (err as Error).message);
  }
}
