/**
 * Networks in etcd, read and written directly (not through the view) so an
 * API client reads its own writes. Any replica may write: creation is a
 * transaction on "key absent", updates on "mod revision unchanged" (retried a
 * few times against concurrent updates).
 */
import {
  DEFAULT_ENCAP_PORTS,
  decodeNetwork,
  encodeNetwork,
  RecordError,
  type KeyLayout,
  type NetworkRecord,
} from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { readRange } from '@dvs/etcd';
import { ApiError } from './api-error.js';
import { addressValue, udpPortValue } from './input.js';
import { externalVtepValue, networkFromCreate, networkFromPatch } from './network-input.js';

const UPDATE_ATTEMPTS = 3;

export class NetworkStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(): Promise<NetworkRecord[]> {
    const { kvs } = await readRange(this.client, { prefix: this.keys.section('network') });
    const out: NetworkRecord[] = [];
    for (const { key, value } of kvs) {
      const parsed = this.keys.parseNetwork(key);
      const record = decodeNetwork(value);
      if (parsed !== null && !(record instanceof RecordError) && record.vni === parsed.vni) out.push(record);
    }
    return out.sort((a, b) => a.vni - b.vni);
  }

  async read(vni: number): Promise<{ record: NetworkRecord; modRevision: number } | null> {
    const res = await this.client.get(this.keys.network(vni)).exec();
    const kv = res.kvs[0];
    if (kv === undefined) return null;
    const record = decodeNetwork(kv.value);
    if (record instanceof RecordError) {
      throw new ApiError('DVS_INTERNAL', `network ${vni} in etcd does not decode: ${record.message}`);
    }
    return { record, modRevision: Number(kv.mod_revision) };
  }

  async get(vni: number): Promise<NetworkRecord> {
    const found = await this.read(vni);
    if (found === null) throw new ApiError('DVS_NOT_FOUND', `no network with vni ${vni}`, 'vni');
    return found.record;
  }

  private async assertNameFree(name: string, vni: number): Promise<void> {
    const clash = (await this.list()).find((n) => n.name === name && n.vni !== vni);
    if (clash !== undefined) {
      throw new ApiError(
        'DVS_NETWORK_NAME_TAKEN',
        `network name "${name}" is already used by vni ${clash.vni}`,
        'name',
      );
    }
  }

  async create(body: unknown): Promise<NetworkRecord> {
    const record = networkFromCreate(body, this.clock());
    await this.assertNameFree(record.name, record.vni);
    const key = this.keys.network(record.vni);
    const res = await this.client
      .if(key, 'Create', '==', 0)
      .then(this.client.put(key).value(encodeNetwork(record)))
      .commit();
    if (!res.succeeded)
      throw new ApiError('DVS_NETWORK_EXISTS', `a network with vni ${record.vni} already exists`, 'vni');
    return record;
  }

  /** Read-modify-write with a mod-revision guard. */
  private async modify(vni: number, change: (current: NetworkRecord) => NetworkRecord): Promise<NetworkRecord> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const found = await this.read(vni);
      if (found === null) throw new ApiError('DVS_NOT_FOUND', `no network with vni ${vni}`, 'vni');
      const next = change(found.record);
      if (next.name !== found.record.name) await this.assertNameFree(next.name, vni);
      const key = this.keys.network(vni);
      const res = await this.client
        .if(key, 'Mod', '==', found.modRevision)
        .then(this.client.put(key).value(encodeNetwork(next)))
        .commit();
      if (res.succeeded) return next;
    }
    throw new ApiError('DVS_CONFLICT', `network ${vni} kept changing concurrently; retry`, 'vni');
  }

  update(vni: number, body: unknown): Promise<NetworkRecord> {
    return this.modify(vni, (current) => networkFromPatch(current, body, this.clock()));
  }

  async delete(vni: number): Promise<void> {
    const res = await this.client.delete().key(this.keys.network(vni)).exec();
    if (Number(res.deleted) === 0) throw new ApiError('DVS_NOT_FOUND', `no network with vni ${vni}`, 'vni');
  }

  addExternalVtep(vni: number, body: unknown): Promise<NetworkRecord> {
    return this.modify(vni, (current) => {
      const vtep = externalVtepValue(body, current.encap, '');
      if (current.externalVteps.some((v) => v.address === vtep.address && v.port === vtep.port)) {
        throw new ApiError(
          'DVS_EXTERNAL_VTEP_EXISTS',
          `${vtep.address}:${vtep.port} is already an external VTEP of vni ${vni}`,
          'address',
        );
      }
      return { ...current, externalVteps: [...current.externalVteps, vtep], updatedAt: this.clock() };
    });
  }

  removeExternalVtep(vni: number, address: string, port: string | null): Promise<NetworkRecord> {
    const addr = addressValue(address, 'address');
    return this.modify(vni, (current) => {
      const p = port === null ? DEFAULT_ENCAP_PORTS[current.encap] : udpPortValue(port, 'port');
      const rest = current.externalVteps.filter((v) => !(v.address === addr && v.port === p));
      if (rest.length === current.externalVteps.length) {
        throw new ApiError('DVS_NOT_FOUND', `${addr}:${p} is not an external VTEP of vni ${vni}`, 'address');
      }
      return { ...current, externalVteps: rest, updatedAt: this.clock() };
    });
  }
}
