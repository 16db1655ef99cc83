/**
 * `hosts/<host>` — written by the agent on its lease: where its VTEP is and
 * what it can do. Its disappearance (lease expiry) removes the host from every
 * table.
 */
import { encodeRecord, decodeRecord, type SchemaVersion } from './codec.js';
import { oneOfAt } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { RECORD_ENCAPS, readVtep, type RecordEncap, type VtepRecord } from './vtep.js';

export const HOST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

export interface HostRecord {
  host: string;
  vtep: VtepRecord;
  encaps: RecordEncap[];
  agentVersion: string;
  /** Agent process start, ms since the epoch: a change means the agent restarted. */
  startedAt: number;
}

export function encodeHost(record: HostRecord): Buffer {
  return encodeRecord(HOST_RECORD_VERSION, record);
}

export function decodeHost(buf: Uint8Array): HostRecord | RecordError {
  return decodeRecord('host', HOST_RECORD_VERSION, buf, (r) => ({
    host: r.hostId('host'),
    vtep: readVtep(r.map_('vtep')),
    encaps: r.array('encaps', RECORD_ENCAPS.length, (v, path) => oneOfAt(v, path, RECORD_ENCAPS)),
    agentVersion: r.string('agentVersion', 64),
    startedAt: r.time('startedAt'),
  }));
}
