/**
 * `ports/<host>/<port>` — written by the agent on its lease: one local port,
 * its mode and the VNIs it carries. The controller builds flood lists from
 * these: a host is in a VNI's flood list when one of its ports carries that VNI.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, mapAt } from './field-reader.js';
import type { RecordError } from './record-error.js';

export const PORT_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

export type PortMode = 'access' | 'trunk';
export type PortState = 'up' | 'down';

export interface PortBinding {
  vni: number;
  /** 802.1Q VLAN id on a trunk port; null on an access port. */
  vlan: number | null;
}

export interface PortRecord {
  host: string;
  port: string;
  mode: PortMode;
  /** Access: exactly one binding with vlan null. Trunk: one per mapped VLAN. */
  bindings: PortBinding[];
  state: PortState;
  /** MACs currently learned on this port. */
  macCount: number;
}

export function encodePort(record: PortRecord): Buffer {
  return encodeRecord(PORT_RECORD_VERSION, record);
}

export function decodePort(buf: Uint8Array): PortRecord | RecordError {
  return decodeRecord('port', PORT_RECORD_VERSION, buf, (r) => {
    const mode = r.oneOf('mode', ['access', 'trunk'] as const);
    const bindings = r.array('bindings', 4094, (v, path) => {
      const b = mapAt(v, path);
      const vlan = mode === 'trunk' ? b.int('vlan', 1, 4094) : null;
      return { vni: b.vni('vni'), vlan };
    });
    if (mode === 'access' && bindings.length !== 1) {
      throw new FieldInvalid('bindings', 'an access port has exactly one binding');
    }
    return {
      host: r.hostId('host'),
      port: r.portName('port'),
      mode,
      bindings,
      state: r.oneOf('state', ['up', 'down'] as const),
      macCount: r.int('macCount', 0, 0xffffffff),
    };
  });
}
