/**
 * `hosts/<host>` — written by the agent on its lease: where its VTEP is and
 * what it can do. Its disappearance (lease expiry) removes the host from every
 * table.
 */
import { encodeRecord, decodeRecord, type SchemaVersion } from './codec.js';
import { oneOfAt, type FieldReader } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { DEFAULT_ENCAP_PORTS, ENCAPS, type Encap } from '../frames/encap.js';
import { readVtep, type VtepRecord } from './vtep.js';

/** 1.1 added `encapPorts` (optional: 1.0 readers ignore it, 1.0 records lack it). */
export const HOST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 1 };

export interface HostRecord {
  host: string;
  /** Underlay address and the VXLAN port. */
  vtep: VtepRecord;
  /** UDP port per encapsulation when not the default (`gre-udp` defaults to 4754, `vxlan` to vtep.port). */
  encapPorts?: Partial<Record<Encap, number>>;
  encaps: Encap[];
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
    ...(r.has('encapPorts') ? { encapPorts: readEncapPorts(r.map_('encapPorts')) } : {}),
    encaps: r.array('encaps', ENCAPS.length, (v, path) => oneOfAt(v, path, ENCAPS)),
    agentVersion: r.string('agentVersion', 64),
    startedAt: r.time('startedAt'),
  }));
}

function readEncapPorts(r: FieldReader): Partial<Record<Encap, number>> {
  const out: Partial<Record<Encap, number>> = {};
  for (const encap of ENCAPS) if (r.has(encap)) out[encap] = r.int(encap, 1, 65535);
  return out;
}

/** Where a host receives frames of `encap`: its address and that encapsulation's UDP port. */
export function hostVtepFor(host: HostRecord, encap: Encap): VtepRecord {
  const port = host.encapPorts?.[encap] ?? (encap === 'vxlan' ? host.vtep.port : DEFAULT_ENCAP_PORTS[encap]);
  return { address: host.vtep.address, port };
}
