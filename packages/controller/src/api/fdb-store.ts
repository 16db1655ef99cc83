/**
 * Static FDB entries: set and removed through the API, stored as
 * `fdb/<vni>/<mac>` records with origin `static` (the leader keeps them as
 * they are). Clearing a learned entry deletes it, which also drops its
 * mobility history; the leader then decides its location afresh.
 */
import {
  DEFAULT_ENCAP_PORTS,
  decodeFdbEntry,
  encodeFdbEntry,
  RecordError,
  type FdbEntryRecord,
  type KeyLayout,
} from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { ApiError } from './api-error.js';
import { addressValue, asBody, ipsValue, macValue, rejectUnknown, required, udpPortValue, vniValue } from './input.js';
import type { NetworkStore } from './network-store.js';

export class FdbStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly networks: NetworkStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async read(vni: number, mac: string): Promise<{ record: FdbEntryRecord; modRevision: number } | null> {
    const res = await this.client.get(this.keys.fdb(vni, mac)).exec();
    const kv = res.kvs[0];
    if (kv === undefined) return null;
    const record = decodeFdbEntry(kv.value);
    if (record instanceof RecordError)
      throw new ApiError('DVS_INTERNAL', `fdb entry does not decode: ${record.message}`);
    return { record, modRevision: Number(kv.mod_revision) };
  }

  async setStatic(raw: unknown): Promise<FdbEntryRecord> {
    const body = asBody(raw);
    rejectUnknown(body, ['vni', 'mac', 'address', 'port', 'ips']);
    const vni = vniValue(required(body, 'vni'));
    const mac = macValue(required(body, 'mac'));
    const address = addressValue(required(body, 'address'), 'address');
    const ips = body.ips === undefined ? [] : ipsValue(body.ips, 'ips');
    const network = await this.networks.get(vni);
    const entry: FdbEntryRecord = {
      vni,
      mac,
      host: null,
      vtep: {
        address,
        port: body.port === undefined ? DEFAULT_ENCAP_PORTS[network.encap] : udpPortValue(body.port, 'port'),
      },
      seq: 0,
      ips,
      origin: 'static',
      moves: 0,
      duplicate: false,
      reason: '',
      updatedAt: this.clock(),
    };
    await this.client.put(this.keys.fdb(vni, mac)).value(encodeFdbEntry(entry));
    return entry;
  }

  async deleteStatic(vniText: string, macText: string): Promise<{ vni: number; mac: string }> {
    const vni = vniValue(vniText);
    const mac = macValue(macText);
    const found = await this.read(vni, mac);
    if (found === null) throw new ApiError('DVS_NOT_FOUND', `no FDB entry for ${mac} in vni ${vni}`, 'mac');
    if (found.record.origin !== 'static') {
      throw new ApiError(
        'DVS_FDB_NOT_STATIC',
        `${mac} in vni ${vni} was learned from host ${found.record.host}, not set; it goes away when the host stops reporting it (use .../clear to reset a duplicate)`,
        'mac',
      );
    }
    const key = this.keys.fdb(vni, mac);
    const res = await this.client.if(key, 'Mod', '==', found.modRevision).then(this.client.delete().key(key)).commit();
    if (!res.succeeded) throw new ApiError('DVS_CONFLICT', `${mac} in vni ${vni} changed concurrently; retry`, 'mac');
    return { vni, mac };
  }

  async clear(vniText: string, macText: string): Promise<{ vni: number; mac: string }> {
    const vni = vniValue(vniText);
    const mac = macValue(macText);
    const found = await this.read(vni, mac);
    if (found === null) throw new ApiError('DVS_NOT_FOUND', `no FDB entry for ${mac} in vni ${vni}`, 'mac');
    if (found.record.origin === 'static') {
      throw new ApiError('DVS_FIELD_INVALID', `${mac} in vni ${vni} is static; delete it instead`, 'mac');
    }
    const key = this.keys.fdb(vni, mac);
    await this.client.if(key, 'Mod', '==', found.modRevision).then(this.client.delete().key(key)).commit();
    return { vni, mac };
  }
}
