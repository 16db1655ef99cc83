/**
 * `flood/<vni>` — written by the controller: the VTEPs that take a head-end
 * copy of the VNI's BUM frames (every live host with a port in the VNI, plus
 * the network's external VTEPs, whose `host` is null). Sorted by VTEP.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { mapAt } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { readVtep, type VtepRecord } from './vtep.js';

export const FLOOD_LIST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };
export const MAX_FLOOD_MEMBERS = 4096;

export interface FloodMember extends VtepRecord {
  host: string | null;
}

export interface FloodListRecord {
  vni: number;
  members: FloodMember[];
  updatedAt: number;
}

export function encodeFloodList(record: FloodListRecord): Buffer {
  return encodeRecord(FLOOD_LIST_RECORD_VERSION, record);
}

export function decodeFloodList(buf: Uint8Array): FloodListRecord | RecordError {
  return decodeRecord('flood-list', FLOOD_LIST_RECORD_VERSION, buf, (r) => ({
    vni: r.vni('vni'),
    members: r.array('members', MAX_FLOOD_MEMBERS, (v, path) => {
      const m = mapAt(v, path);
      return { ...readVtep(m), host: m.optionalHostId('host') };
    }),
    updatedAt: r.time('updatedAt'),
  }));
}
