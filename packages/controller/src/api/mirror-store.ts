/**
 * Port mirrors in etcd (`mirrors/<name>`), read and written directly so an
 * API client reads its own writes. Creation is a transaction on "key
 * absent"; the checks against the other mirrors and the networks read etcd
 * first (a concurrent create of a clashing mirror is the operator's race).
 */
import { decodeMirror, encodeMirror, RecordError, type KeyLayout, type MirrorRecord } from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { readRange } from '@dvs/etcd';
import { ApiError } from './api-error.js';
import { checkMirrorAgainst, mirrorFromCreate } from './mirror-input.js';
import type { NetworkStore } from './network-store.js';

export class MirrorStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly networks: NetworkStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(): Promise<MirrorRecord[]> {
    const { kvs } = await readRange(this.client, { prefix: this.keys.section('mirror') });
    const out: MirrorRecord[] = [];
    for (const { key, value } of kvs) {
      const parsed = this.keys.parse(key);
      const record = decodeMirror(value);
      if (parsed?.kind === 'mirror' && !(record instanceof RecordError) && record.name === parsed.name)
        out.push(record);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<MirrorRecord> {
    const found = (await this.list()).find((m) => m.name === name);
    if (found === undefined) throw new ApiError('DVS_NOT_FOUND', `no mirror ${name}`, 'name');
    return found;
  }

  async create(body: unknown): Promise<MirrorRecord> {
    const record = mirrorFromCreate(body, this.clock());
    const others = await this.list();
    if (others.some((m) => m.name === record.name))
      throw new ApiError('DVS_CONFLICT', `a mirror named ${record.name} already exists`, 'name');
    const networkVnis = new Set((await this.networks.list()).map((n) => n.vni));
    checkMirrorAgainst(record, others, networkVnis);
    const key = this.keys.mirror(record.name);
    const res = await this.client
      .if(key, 'Create', '==', 0)
      .then(this.client.put(key).value(encodeMirror(record)))
      .commit();
    if (!res.succeeded) throw new ApiError('DVS_CONFLICT', `a mirror named ${record.name} already exists`, 'name');
    return record;
  }

  async delete(name: string): Promise<MirrorRecord> {
    const found = await this.get(name);
    await this.client.delete().key(this.keys.mirror(name)).exec();
    return found;
  }

  /** Throws when `vni` is a mirror VNI (a network cannot take it). */
  async assertVniFree(vni: number): Promise<void> {
    const taken = (await this.list()).find((m) => m.vni === vni);
    if (taken !== undefined)
      throw new ApiError('DVS_FIELD_INVALID', `vni: ${vni} is the mirror VNI of mirror ${taken.name}`, 'vni');
  }
}
