/**
 * Table digests: how an agent proves what its data path holds, per VNI, and
 * how the controller checks it against the tables it intends (`dvs audit`).
 *
 * A digest of a set is its size and the XOR of a 64-bit hash of each member
 * (two 32-bit FNV-1a halves): adding or removing one member costs O(1), so
 * the data path keeps its digests up to date as table changes are applied,
 * never per frame, and the controller computes the same value from its
 * records. Members are text, the same on both sides:
 *  - FDB: `<mac>@<address>:<port>` per control entry (canonical MAC and
 *    address), the entries placing MACs at other hosts;
 *  - flood list: `<address>:<port>` per member other than the host itself
 *    (none when the network's flood mode is `none`);
 *  - accepted sources: `<address>:<port>` per VTEP whose tunnelled packets
 *    the VNI accepts (flood members and every VTEP an FDB entry names).
 *
 * `digests/<host>` (TableDigestRecord, agent, on its lease): the digests of
 * every VNI the agent follows, plus `diff`: the control entries where its
 * data path disagrees with the tables it received (bounded), so an audit
 * names the MAC. `resync/<host>` (ResyncRequestRecord, controller): VNIs the
 * agent should read and apply afresh (`dvs audit --repair`).
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, mapAt } from './field-reader.js';
import { isRecordVni } from './vni-range.js';
import type { RecordError } from './record-error.js';
import { readVtep, type VtepRecord } from './vtep.js';
import { canonicalIpAddress } from '../frames/ip-address.js';

export const TABLE_DIGEST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };
export const RESYNC_REQUEST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };
export const MAX_DIGEST_VNIS = 65536;
/** Disagreeing entries an agent lists per record (the digest covers the rest). */
export const MAX_DIGEST_DIFF = 256;

function fnv1a(text: string, basis: number, prime: number): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, prime) >>> 0;
  }
  return h >>> 0;
}

/** The digest of a set of text members, kept incrementally. */
export class SetDigest {
  count = 0;
  private high = 0;
  private low = 0;

  add(member: string): void {
    this.count++;
    this.toggle(member);
  }

  remove(member: string): void {
    this.count--;
    this.toggle(member);
  }

  /** A copy, to take members away from without changing this one. */
  clone(): SetDigest {
    const copy = new SetDigest();
    copy.count = this.count;
    copy.high = this.high;
    copy.low = this.low;
    return copy;
  }

  clear(): void {
    this.count = 0;
    this.high = 0;
    this.low = 0;
  }

  get value(): TableDigest {
    return {
      count: this.count,
      hash: this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0'),
    };
  }

  private toggle(member: string): void {
    this.high = (this.high ^ fnv1a(member, 0x811c9dc5, 0x01000193)) >>> 0;
    this.low = (this.low ^ fnv1a(member, 0x050c5d1f, 0x01000193 + 0x1a2)) >>> 0;
  }
}

/** The digest of a whole set at once. */
export function digestOf(members: Iterable<string>): TableDigest {
  const d = new SetDigest();
  for (const m of members) d.add(m);
  return d.value;
}

/** A VTEP as a digest member: canonical address and port. */
export function vtepDigestMember(vtep: { address: string; port: number }): string {
  return `${canonicalIpAddress(vtep.address) ?? vtep.address}:${vtep.port}`;
}

/** An FDB control entry as a digest member. */
export function fdbDigestMember(mac: string, vtep: { address: string; port: number }): string {
  return `${mac}@${vtepDigestMember(vtep)}`;
}

export interface TableDigest {
  count: number;
  /** 16 hex digits. */
  hash: string;
}

export interface VniDigest {
  vni: number;
  fdb: TableDigest;
  flood: TableDigest;
  sources: TableDigest;
}

/** A control entry where the data path disagrees with the tables the agent received. */
export interface DigestDiff {
  vni: number;
  mac: string;
  /** Where the data path sends the MAC; null: it has no control entry for it. */
  has: VtepRecord | null;
  /** Where the tables the agent received place it; null: nowhere (another host's MAC it should not hold). */
  table: VtepRecord | null;
}

export interface TableDigestRecord {
  host: string;
  vnis: VniDigest[];
  diff: DigestDiff[];
  updatedAt: number;
}

export interface ResyncRequestRecord {
  host: string;
  vnis: number[];
  /** Changes with every request, so a repeated request is a new put. */
  id: string;
  requestedAt: number;
}

export function encodeTableDigest(record: TableDigestRecord): Buffer {
  return encodeRecord(TABLE_DIGEST_RECORD_VERSION, record);
}

const HASH = /^[0-9a-f]{16}$/;

export function decodeTableDigest(buf: Uint8Array): TableDigestRecord | RecordError {
  return decodeRecord('table-digest', TABLE_DIGEST_RECORD_VERSION, buf, (r) => {
    const digest = (m: ReturnType<typeof mapAt>, key: string): TableDigest => {
      const d = m.map_(key);
      const hash = d.string('hash', 16);
      if (!HASH.test(hash)) throw new FieldInvalid(d.pathOf('hash'), 'expected 16 hex digits');
      return { count: d.int('count', 0, Number.MAX_SAFE_INTEGER), hash };
    };
    return {
      host: r.hostId('host'),
      vnis: r.array('vnis', MAX_DIGEST_VNIS, (v, path) => {
        const m = mapAt(v, path);
        return { vni: m.vni('vni'), fdb: digest(m, 'fdb'), flood: digest(m, 'flood'), sources: digest(m, 'sources') };
      }),
      diff: r.array('diff', MAX_DIGEST_DIFF, (v, path) => {
        const m = mapAt(v, path);
        return {
          vni: m.vni('vni'),
          mac: m.mac('mac'),
          has: m.has('has') ? readVtep(m.map_('has')) : null,
          table: m.has('table') ? readVtep(m.map_('table')) : null,
        };
      }),
      updatedAt: r.time('updatedAt'),
    };
  });
}

export function encodeResyncRequest(record: ResyncRequestRecord): Buffer {
  return encodeRecord(RESYNC_REQUEST_RECORD_VERSION, record);
}

export function decodeResyncRequest(buf: Uint8Array): ResyncRequestRecord | RecordError {
  return decodeRecord('resync-request', RESYNC_REQUEST_RECORD_VERSION, buf, (r) => ({
    host: r.hostId('host'),
    vnis: r.array('vnis', MAX_DIGEST_VNIS, (v, path) => {
      if (typeof v !== 'number' || !isRecordVni(v)) throw new FieldInvalid(path, 'expected a VNI');
      return v;
    }),
    id: r.string('id', 64),
    requestedAt: r.time('requestedAt'),
  }));
}
