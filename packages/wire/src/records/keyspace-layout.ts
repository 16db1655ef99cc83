/**
 * `layout` — written by the controller: which key layout the keyspace under
 * this prefix has (KEY_LAYOUT_VERSION in keys.ts). A controller starting on a
 * keyspace without it that still holds layout-1 keys refuses to start until
 * `dvs-controller --migrate-keyspace` has converted it (docs/operations.md).
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import type { RecordError } from './record-error.js';

export const KEYSPACE_LAYOUT_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

export interface KeyspaceLayoutRecord {
  /** The key layout (2: hosts first everywhere). */
  layout: number;
  /** Who wrote it (`dvs-controller <id>`, `dvs-controller --migrate-keyspace`). */
  writtenBy: string;
  writtenAt: number;
}

export function encodeKeyspaceLayout(record: KeyspaceLayoutRecord): Buffer {
  return encodeRecord(KEYSPACE_LAYOUT_RECORD_VERSION, record);
}

export function decodeKeyspaceLayout(buf: Uint8Array): KeyspaceLayoutRecord | RecordError {
  return decodeRecord('keyspace-layout', KEYSPACE_LAYOUT_RECORD_VERSION, buf, (r) => ({
    layout: r.int('layout', 1, 0xffff),
    writtenBy: r.string('writtenBy', 256),
    writtenAt: r.time('writtenAt'),
  }));
}
