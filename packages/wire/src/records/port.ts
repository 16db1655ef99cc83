/**
 * `ports/<host>/<port>` — written by the agent on its lease: one local port,
 * its mode and the VNIs it carries, its kind and its device's state. The
 * controller builds flood lists from these: a host is in a VNI's flood list
 * when one of its ports carries that VNI.
 *
 * Schema 1.1 added `kind`, `deviceKind`, `since` (optional: a 1.0 writer
 * leaves them out) and the state `gone`. A 1.0 reader refuses a record whose
 * state is `gone` as invalid and leaves that port out of its flood lists,
 * which is what a port without a device needs anyway.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, mapAt } from './field-reader.js';
import type { RecordError } from './record-error.js';

export const PORT_RECORD_VERSION: SchemaVersion = { major: 1, minor: 1 };

export type PortMode = 'access' | 'trunk';

/**
 * A port's state: `up` (its device is there and up), `down` (its device is
 * there but down: administratively, or no carrier), `gone` (its device does
 * not exist: the VM quit, the pod died; the port stays configured and is
 * attached again when a device of its name comes back).
 */
export const PORT_STATES = ['up', 'down', 'gone'] as const;
export type PortState = (typeof PORT_STATES)[number];

/**
 * What a port is: `tap-created` (a TAP the agent created and holds),
 * `tap-adopted` (an existing TAP nobody held, opened by the agent) or
 * `attach` (an existing device someone else holds or owns — a TAP that QEMU
 * holds, a veth end, a macvlan, a NIC — read through an AF_PACKET socket).
 */
export const PORT_KINDS = ['tap-created', 'tap-adopted', 'attach'] as const;
export type PortKind = (typeof PORT_KINDS)[number];

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
  /** Since 1.1. */
  kind?: PortKind;
  /** The device's kind as the host reports it ('tap', 'veth', 'macvlan', 'physical', …); since 1.1. */
  deviceKind?: string;
  /** When the port entered its state (ms since the epoch); since 1.1. */
  since?: number;
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
    const record: PortRecord = {
      host: r.hostId('host'),
      port: r.portName('port'),
      mode,
      bindings,
      state: r.oneOf('state', PORT_STATES),
      macCount: r.int('macCount', 0, 0xffffffff),
    };
    if (r.has('kind')) record.kind = r.oneOf('kind', PORT_KINDS);
    const deviceKind = r.optionalString('deviceKind', 32);
    if (deviceKind !== undefined) record.deviceKind = deviceKind;
    if (r.has('since')) record.since = r.time('since');
    return record;
  });
}
