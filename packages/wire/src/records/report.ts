/**
 * `reports/<host>/<vni>/<mac>` — written by the agent on its lease: "this MAC
 * is local to me". `seq` is the RFC 7432 §15 mobility sequence number: a host
 * that sees a MAC appear locally while the authoritative FDB places it
 * elsewhere reports the table's seq + 1. The controller ignores a report
 * whose seq is more than one above what it knows for the MAC, so no host can
 * pin a MAC with MAX_SEQ.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { stringAt } from './field-reader.js';
import type { RecordError } from './record-error.js';

export const REPORT_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

/** RFC 7432 carries seq in 32 bits. */
export const MAX_SEQ = 0xffffffff;

export interface ReportRecord {
  vni: number;
  mac: string;
  host: string;
  /** Local port the MAC was learned on. */
  port: string;
  seq: number;
  /** IPs seen with this MAC (ARP/ND/DHCP snooping); may be empty. */
  ips: string[];
  /** When the agent (re)learned it, ms since the epoch. */
  seenAt: number;
}

export function encodeReport(record: ReportRecord): Buffer {
  return encodeRecord(REPORT_RECORD_VERSION, record);
}

export function decodeReport(buf: Uint8Array): ReportRecord | RecordError {
  return decodeRecord('report', REPORT_RECORD_VERSION, buf, (r) => ({
    vni: r.vni('vni'),
    mac: r.mac('mac'),
    host: r.hostId('host'),
    port: r.portName('port'),
    seq: r.int('seq', 0, MAX_SEQ),
    ips: r.array('ips', 64, (v, path) => stringAt(v, path, 64)),
    seenAt: r.time('seenAt'),
  }));
}
