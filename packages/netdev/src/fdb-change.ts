import { ipAddressBytes, parseIpAddress } from '@dvs/wire';
import type { LinkRef } from './kernel-link-spec.js';
import { VNI_MAX } from './kernel-link-spec.js';
import { checkInteger, invalid } from './netlink-check.js';

/**
 * One change to a kernel FDB, for `Rtnetlink.applyFdb()`. A MAC is the 48-bit
 * number @dvs/wire's parseMac() gives (0x020000000001 for 02:00:00:00:00:01);
 * 0 is the all-zeros entry: the flood list of a vxlan device, one `append` per
 * VTEP (head-end replication).
 *
 *  - `add`     create; the kernel refuses an existing entry (DVS_NETLINK_EXISTS);
 *  - `replace` create or overwrite a unicast entry (what reconciling wants);
 *  - `append`  the all-zeros (or a multicast) MAC: add one more destination,
 *              creating the entry if needed; an existing destination is kept;
 *  - `del`     remove the entry; for the all-zeros MAC, give `dst` to remove
 *              one destination only (without it, every destination goes).
 */
export type FdbOp = 'add' | 'replace' | 'append' | 'del';

/** 'permanent' and 'static' never age; 'dynamic' ages like a learned entry. */
export type FdbChangeState = 'permanent' | 'static' | 'dynamic';

export interface FdbChange {
  op: FdbOp;
  /** The device holding the entry: a vxlan device (table 'self') or a bridge port (table 'master'). */
  device: LinkRef;
  mac: number;
  /** 'self' (default): the device's own FDB, a vxlan device's remote VTEPs. 'master': its bridge's FDB. */
  table?: 'self' | 'master';
  /** Default 'static' (`bridge fdb … static`). */
  state?: FdbChangeState;
  /** vxlan: the remote VTEP's address. */
  dst?: string;
  /** vxlan: the remote VTEP's UDP port (default: the device's). */
  dstPort?: number;
  /** vxlan: the VNI to send with (default: the device's). */
  vni?: number;
  /** vxlan in external mode with a VNI filter: the VNI this entry belongs to. */
  srcVni?: number;
  /** vxlan: the underlay device to send through. */
  via?: LinkRef;
  /** A bridge with VLAN filtering: the VLAN (1..4094). */
  vlan?: number;
  /**
   * NTF_EXT_LEARNED (`bridge fdb … extern_learn`): put there by a control
   * plane, as EVPN does. In a bridge's table such an entry never ages, and
   * a frame from the MAC on another port takes it over (it becomes an
   * ordinary learned entry there), where a static one would stay static.
   */
  extLearned?: boolean;
}

/** The size of one change as the addon reads it (src/native/neighbour.cc has the layout). */
export const FDB_RECORD_SIZE = 48;
const OPS: Record<FdbOp, number> = { add: 0, replace: 1, append: 2, del: 3 };
const NUD_REACHABLE = 0x02;
const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
// As iproute2's `bridge fdb add … permanent | static | dynamic`. A vxlan
// device takes only entries with NUD_PERMANENT or NUD_REACHABLE; NUD_NOARP
// keeps a reachable one from ageing (in a bridge's table too: "static").
const STATES: Record<FdbChangeState, number> = {
  permanent: NUD_PERMANENT,
  static: NUD_NOARP | NUD_REACHABLE,
  dynamic: NUD_REACHABLE,
};
export const NTF_SELF = 0x02;
export const NTF_MASTER = 0x04;
export const NTF_EXT_LEARNED = 0x10;
const HAS_VNI = 1;
const HAS_SRC_VNI = 2;
const MAC_MAX = 2 ** 48 - 1;
const VLAN_MAX = 4094;

/** '02:00:00:00:00:01', for messages. */
export function macText(mac: number): string {
  return mac
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

/** The all-zeros MAC or a group MAC: entries that hold a list of destinations. */
export function isListMac(mac: number): boolean {
  return mac === 0 || Math.floor(mac / 2 ** 40) % 2 === 1;
}

/** 'fdb append 00:00:00:00:00:00 dst 192.0.2.2 on vx100', for messages. */
export function describeFdbChange(change: FdbChange): string {
  let text = `fdb ${change.op} ${macText(change.mac)}`;
  if (change.dst !== undefined) text += ` dst ${change.dst}`;
  if (change.vni !== undefined) text += ` vni ${change.vni}`;
  if (change.vlan !== undefined) text += ` vlan ${change.vlan}`;
  return `${text} on ${change.device}`;
}

/** Resolves a LinkRef to an ifindex; 0 when there is no such device (reported per change, not thrown). */
export type FdbLinkResolver = (name: string) => number;

/**
 * Checks every change (throws DVS_NETLINK_INVALID naming `changes[i].field`
 * before anything is sent) and writes them as the addon's records:
 * `records` holds `sent.length` of them, record j for changes[sent[j]];
 * a change whose device does not resolve is left out and named in `missing`.
 */
export function encodeFdbChanges(
  changes: readonly FdbChange[],
  resolve: FdbLinkResolver,
): { records: Buffer; sent: number[]; missing: Map<number, string> } {
  if (!Array.isArray(changes)) invalid('changes', 'must be an array of FDB changes');
  const records = Buffer.alloc(changes.length * FDB_RECORD_SIZE);
  const missing = new Map<number, string>();
  const addresses = new Map<string, { family: 4 | 6; bytes: Uint8Array }>();
  changes.forEach((change, i) => {
    const at = i * FDB_RECORD_SIZE;
    const field = (name: string): string => `changes[${i}].${name}`;
    if (typeof change !== 'object' || change === null) invalid(`changes[${i}]`, 'must be an FDB change object');
    if (!Object.hasOwn(OPS, change.op)) invalid(field('op'), `must be one of ${Object.keys(OPS).join(', ')}`);
    checkInteger(change.mac, field('mac'), 0, MAC_MAX);
    if (change.op === 'replace' && isListMac(change.mac)) {
      invalid(
        field('op'),
        'replace only takes unicast MACs: the all-zeros and group MACs take append (one per destination)',
      );
    }
    if (change.op === 'append' && !isListMac(change.mac)) {
      invalid(field('op'), 'append only takes the all-zeros or a group MAC: a unicast MAC takes add or replace');
    }
    const table: string = change.table ?? 'self';
    if (table !== 'self' && table !== 'master') invalid(field('table'), "must be 'self' or 'master'");
    const state = (change.state ?? 'static') as FdbChangeState;
    if (!Object.hasOwn(STATES, state)) invalid(field('state'), `must be one of ${Object.keys(STATES).join(', ')}`);
    if (table === 'master') {
      for (const name of ['dst', 'dstPort', 'vni', 'srcVni', 'via'] as const) {
        if (change[name] !== undefined)
          invalid(field(name), "is a vxlan (table 'self') attribute; a bridge's table has none");
      }
    }
    records[at] = OPS[change.op as FdbOp];
    records[at + 1] = STATES[state];
    records[at + 2] = (table === 'self' ? NTF_SELF : NTF_MASTER) | (change.extLearned === true ? NTF_EXT_LEARNED : 0);
    const ifindex = resolveRef(change.device, field('device'), resolve);
    if (ifindex === 0) missing.set(i, String(change.device));
    records.writeUInt32LE(ifindex, at + 4);
    records.writeUIntBE(change.mac, at + 8, 6);
    if (change.dst !== undefined) {
      // Many entries share a VTEP: parse each address once per batch.
      let dst = addresses.get(change.dst);
      if (dst === undefined) {
        const parsed = typeof change.dst === 'string' ? parseIpAddress(change.dst) : null;
        if (parsed === null) invalid(field('dst'), `must be an IPv4 or IPv6 address, got ${String(change.dst)}`);
        dst = { family: parsed.family, bytes: ipAddressBytes(parsed) };
        addresses.set(change.dst, dst);
      }
      records[at + 3] = dst.family;
      records.set(dst.bytes, at + 16);
    }
    if (change.dstPort !== undefined)
      records.writeUInt16LE(checkInteger(change.dstPort, field('dstPort'), 1, 65535), at + 14);
    let present = 0;
    if (change.vni !== undefined) {
      records.writeUInt32LE(checkInteger(change.vni, field('vni'), 0, VNI_MAX), at + 32);
      present |= HAS_VNI;
    }
    if (change.srcVni !== undefined) {
      records.writeUInt32LE(checkInteger(change.srcVni, field('srcVni'), 0, VNI_MAX), at + 36);
      present |= HAS_SRC_VNI;
    }
    if (change.via !== undefined) {
      const via = resolveRef(change.via, field('via'), resolve);
      if (via === 0) missing.set(i, String(change.via));
      records.writeUInt32LE(via, at + 40);
    }
    if (change.vlan !== undefined)
      records.writeUInt16LE(checkInteger(change.vlan, field('vlan'), 1, VLAN_MAX), at + 44);
    records.writeUInt16LE(present, at + 46);
  });
  if (missing.size === 0) return { records, sent: changes.map((_, i) => i), missing };
  const sent = changes.map((_, i) => i).filter((i) => !missing.has(i));
  const compact = Buffer.alloc(sent.length * FDB_RECORD_SIZE);
  sent.forEach((i, j) => records.copy(compact, j * FDB_RECORD_SIZE, i * FDB_RECORD_SIZE, (i + 1) * FDB_RECORD_SIZE));
  return { records: compact, sent, missing };
}

function resolveRef(ref: LinkRef, field: string, resolve: FdbLinkResolver): number {
  if (typeof ref === 'number') return checkInteger(ref, field, 1, 0x7fffffff);
  if (typeof ref !== 'string' || ref === '') invalid(field, 'must be a device name or an ifindex');
  return resolve(ref);
}
