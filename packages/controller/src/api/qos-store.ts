/**
 * Port QoS in etcd (`limits/<host>/<port>`, wire's port-qos.ts): the
 * policers the agent of `host` puts on the port. Written directly, read back
 * by the client; a policer is checked by wire's policerSpecProblem (the rule
 * the agent and its data path apply too), so a rate of 0 is refused here,
 * naming the field, and nothing is written.
 */
import {
  decodePortQos,
  defaultBurstKb,
  encodePortQos,
  isHostId,
  isPortName,
  policerSpecProblem,
  RecordError,
  type KeyLayout,
  type PolicerSpec,
  type PortQosRecord,
} from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { readRange } from '@dvs/etcd';
import { ApiError } from './api-error.js';
import { asBody, rejectUnknown } from './input.js';

function policer(value: unknown, field: string): PolicerSpec | null {
  if (value === undefined || value === null) return null;
  const body = asBody(value);
  rejectUnknown(body, ['rateKbps', 'burstKb'], `${field}.`);
  const rateKbps = body.rateKbps as number;
  const spec = {
    rateKbps,
    burstKb: (body.burstKb ?? (Number.isInteger(rateKbps) ? defaultBurstKb(rateKbps) : 0)) as number,
  };
  const problem = policerSpecProblem(spec);
  if (problem !== null) {
    const sub = problem.startsWith('rate') ? 'rateKbps' : 'burstKb';
    throw new ApiError('DVS_FIELD_INVALID', `${field}.${sub}: ${problem}`, `${field}.${sub}`);
  }
  return spec;
}

export class QosStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(): Promise<PortQosRecord[]> {
    const { kvs } = await readRange(this.client, { prefix: this.keys.section('qos') });
    const out: PortQosRecord[] = [];
    for (const { value } of kvs) {
      const record = decodePortQos(value);
      if (!(record instanceof RecordError)) out.push(record);
    }
    return out.sort((a, b) => a.host.localeCompare(b.host) || a.port.localeCompare(b.port));
  }

  private key(host: string | undefined, port: string | undefined): string {
    if (!isHostId(host)) throw new ApiError('DVS_FIELD_INVALID', `host: "${host}" is not a host id`, 'host');
    if (!isPortName(port)) throw new ApiError('DVS_FIELD_INVALID', `port: "${port}" is not a port name`, 'port');
    return this.keys.portQos(host, port);
  }

  /** Sets both directions of a port (a direction left out or null: no policer there). */
  async set(host: string | undefined, port: string | undefined, raw: unknown): Promise<PortQosRecord> {
    const key = this.key(host, port);
    const body = asBody(raw);
    rejectUnknown(body, ['ingress', 'egress']);
    const record: PortQosRecord = {
      host: host as string,
      port: port as string,
      ingress: policer(body.ingress, 'ingress'),
      egress: policer(body.egress, 'egress'),
      updatedAt: this.clock(),
    };
    if (record.ingress === null && record.egress === null)
      throw new ApiError(
        'DVS_FIELD_MISSING',
        'ingress or egress: give at least one policer (to stop policing, delete the port QoS)',
        'ingress',
      );
    await this.client.put(key).value(encodePortQos(record)).exec();
    return record;
  }

  async delete(host: string | undefined, port: string | undefined): Promise<void> {
    const res = await this.client.delete().key(this.key(host, port)).exec();
    if (Number(res.deleted) === 0) throw new ApiError('DVS_NOT_FOUND', `no QoS on port ${host}/${port}`, 'port');
  }
}
