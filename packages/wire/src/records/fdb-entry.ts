/**
 * `fdb/<vni>/<mac>` — written by the controller: the authoritative location
 * of a MAC. `host` is null for a MAC behind an external VTEP (static entry).
 * A duplicate entry is frozen at its last location; `reason` says why.
 * A `stale` entry (1.1) still places the MAC at a host whose etcd lease
 * expired: its claim is kept (and used) until the controller's stale policy
 * drops it (docs/control-plane.md#lease-loss-stale-not-ejected).
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { stringAt } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { MAX_SEQ } from './report.js';
import { readVtep, type VtepRecord } from './vtep.js';

export const FDB_ENTRY_RECORD_VERSION: SchemaVersion = { major: 1, minor: 1 };

export type FdbOrigin = 'report' | 'static';

export interface FdbEntryRecord {
  vni: number;
  mac: string;
  host: string | null;
  vtep: VtepRecord;
  seq: number;
  ips: string[];
  origin: FdbOrigin;
  /** Moves counted in the dampening window. */
  moves: number;
  duplicate: boolean;
  /** Why the entry is what it is (`duplicate: 6 moves in 180 s`), empty when nothing to say. */
  reason: string;
  updatedAt: number;
  /** The winning claim is from a host that lost its etcd lease (kept, still used). Absent: false. */
  stale?: boolean;
}

export function encodeFdbEntry(record: FdbEntryRecord): Buffer {
  const { stale, ...rest } = record;
  return encodeRecord(FDB_ENTRY_RECORD_VERSION, stale === true ? { ...rest, stale } : rest);
}

export function decodeFdbEntry(buf: Uint8Array): FdbEntryRecord | RecordError {
  return decodeRecord('fdb-entry', FDB_ENTRY_RECORD_VERSION, buf, (r) => ({
    vni: r.vni('vni'),
    mac: r.mac('mac'),
    host: r.optionalHostId('host'),
    vtep: readVtep(r.map_('vtep')),
    seq: r.int('seq', 0, MAX_SEQ),
    ips: r.array('ips', 64, (v, path) => stringAt(v, path, 64)),
    origin: r.oneOf('origin', ['report', 'static'] as const),
    moves: r.int('moves', 0, 0xffffffff),
    duplicate: r.boolean('duplicate'),
    reason: r.string('reason', 256),
    updatedAt: r.time('updatedAt'),
    ...(r.has('stale') && r.boolean('stale') ? { stale: true } : {}),
  }));
}
