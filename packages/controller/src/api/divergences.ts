/**
 * `GET /v1/divergences` and `POST /v1/divergences/repair` (`dvs audit`,
 * `dvs audit --repair`): the agents whose data path disagrees with the
 * tables (view/table-audit.ts), and a resync request (`resync/<host>`) that
 * makes an agent read and apply a VNI afresh.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { encodeResyncRequest, isHostId, type DivergencesView, type KeyLayout, type RepairView } from '@dvs/wire';
import type { TableAuditor } from '../view/table-audit.js';
import { ApiError } from './api-error.js';
import { asBody, rejectUnknown, stringValue, vniValue } from './input.js';

/** What `GET /v1/divergences` answers: compared now. */
export function divergencesView(auditor: TableAuditor): DivergencesView {
  const divergences = auditor.check();
  return {
    checkedHosts: auditor.checkedHosts,
    divergentHosts: [...new Set(divergences.map((d) => d.host))].sort(),
    divergences,
    settleMs: auditor.settleMs,
  };
}

/** The repair request's body: `{ host?, vni? }` (both optional: every divergent host and VNI). */
export function repairTarget(body: unknown): { host?: string; vni?: number } {
  const b = body === undefined || body === null ? {} : asBody(body);
  rejectUnknown(b, ['host', 'vni']);
  return {
    ...(b.host !== undefined ? { host: stringValue(b.host, 'host', null, 63, 'a host id') } : {}),
    ...(b.vni !== undefined ? { vni: vniValue(b.vni) } : {}),
  };
}

/**
 * Writes `resync/<host>` for every divergent (host, VNI) matching the target;
 * an explicit host and VNI are requested even when nothing diverges now.
 */
export async function requestRepairs(
  client: Etcd3,
  keys: KeyLayout,
  auditor: TableAuditor,
  target: { host?: string; vni?: number },
  now: number = Date.now(),
): Promise<RepairView> {
  if (target.host !== undefined && !isHostId(target.host)) {
    throw new ApiError('DVS_FIELD_INVALID', `host must be a host id (got ${JSON.stringify(target.host)})`, 'host');
  }
  const wanted = new Map<string, Set<number>>();
  for (const d of auditor.check()) {
    if (target.host !== undefined && d.host !== target.host) continue;
    if (target.vni !== undefined && d.vni !== target.vni) continue;
    const set = wanted.get(d.host) ?? new Set<number>();
    set.add(d.vni);
    wanted.set(d.host, set);
  }
  if (target.host !== undefined && target.vni !== undefined) {
    wanted.set(target.host, new Set([...(wanted.get(target.host) ?? []), target.vni]));
  }
  const requested: RepairView['requested'] = [];
  for (const [host, vniSet] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
    const vnis = [...vniSet].sort((a, b) => a - b);
    const record = { host, vnis, id: randomBytes(8).toString('hex'), requestedAt: now };
    await client.put(keys.resync(host)).value(encodeResyncRequest(record));
    requested.push({ host, vnis });
  }
  return { requested };
}
