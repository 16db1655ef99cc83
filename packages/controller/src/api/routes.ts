/**
 * The API's routes (docs/api.md). Reads come from the ClusterView (networks
 * straight from etcd, so a client reads its own writes); writes go to etcd
 * through the stores, and fill `ctx.audit` with the entry before and after.
 */
import { EtcdError, GRPCGenericError, type Etcd3 } from 'etcd3';
import { FLOW_EXPORTERS, type AuditAnswer, type HealthView, type KeyLayout, type NetworkRecord } from '@dvs/wire';
import type { ControllerMetrics } from '../metrics.js';
import type { IgnoredRecord } from '../tables/admission.js';
import type { ClusterView } from '../view/cluster-view.js';
import type { TableAuditor } from '../view/table-audit.js';
import { divergencesView, repairTarget, requestRepairs } from './divergences.js';
import { ApiError } from './api-error.js';
import type { AuditLog } from './audit-log.js';
import { FdbStore } from './fdb-store.js';
import { FlowExportStore } from './flow-export-store.js';
import { intValue, macValue, vniValue } from './input.js';
import { MirrorStore } from './mirror-store.js';
import { QosStore } from './qos-store.js';
import { NetworkStore } from './network-store.js';
import { Router, type Reply } from './router.js';
import { fdbViews, hostViews, statusView, tunnelViews, type FdbFilter } from './views.js';

export interface ApiState {
  id: string;
  isLeader(): boolean;
  etcdUp(): boolean;
  /** Agent records the tables leave out now (the leader's; a standby works them out from its view). */
  ignoredRecords(): readonly IgnoredRecord[];
}

export interface RouteDeps {
  client: Etcd3;
  keys: KeyLayout;
  view: ClusterView;
  metrics: ControllerMetrics;
  state: ApiState;
  audit: AuditLog;
  auditor: TableAuditor;
  clock?: () => number;
}

function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** The current entry for the audit log; null when it cannot be read (the write reports its own error). */
async function current<T>(read: () => Promise<T | null | undefined>): Promise<T | null> {
  try {
    return (await read()) ?? null;
  } catch {
    return null;
  }
}

export function isEtcdFailure(err: unknown): boolean {
  return err instanceof GRPCGenericError || err instanceof EtcdError || (err as Error)?.name === 'BrokenCircuitError';
}

/** Reads straight from etcd (read-your-writes); while etcd is away, the last known state from the view. */
async function orCached<T>(read: () => Promise<T>, cached: () => T, etcdUp: () => boolean): Promise<T> {
  if (!etcdUp()) return cached();
  try {
    return await read();
  } catch (err) {
    if (isEtcdFailure(err)) return cached();
    throw err;
  }
}

export function buildRouter(deps: RouteDeps): Router {
  const { view, state, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const networks = new NetworkStore(deps.client, deps.keys, clock);
  const fdb = new FdbStore(deps.client, deps.keys, networks, clock);
  const mirrors = new MirrorStore(deps.client, deps.keys, networks, clock);
  const qos = new QosStore(deps.client, deps.keys, clock);
  const flowExport = new FlowExportStore(deps.client, deps.keys, clock);
  const vniParam = (text: string | undefined): number => vniValue(text ?? '', 'vni');
  const cachedNetworks = (): NetworkRecord[] =>
    [...view.networks.values()].map((v) => v.record).sort((a, b) => a.vni - b.vni);
  const networkNow = (vni: unknown) => current(async () => (await networks.read(vniValue(vni)))?.record);
  const fdbNow = (vni: unknown, mac: unknown) =>
    current(async () => (await fdb.read(vniValue(vni), macValue(mac)))?.record);
  const bodyField = (body: unknown, field: string): unknown =>
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;

  const router = new Router()
    .add(
      'GET',
      '/healthz',
      () => {
        const healthy = state.etcdUp() && view.loaded;
        const health: HealthView = {
          status: healthy ? 'ok' : 'unavailable',
          id: state.id,
          leader: state.isLeader(),
          etcd: state.etcdUp() ? 'up' : 'down',
          revision: view.revision,
        };
        return ok(health, healthy ? 200 : 503);
      },
      'public',
    )
    .add('GET', '/metrics', () => ({
      status: 200,
      body: metrics.render(view, { leader: state.isLeader(), etcdUp: state.etcdUp() }),
      contentType: 'text/plain; version=0.0.4',
    }))
    .add('GET', '/v1/status', () =>
      ok(
        statusView(
          view,
          { id: state.id, leader: state.isLeader(), etcdUp: state.etcdUp() },
          state.ignoredRecords(),
          deps.auditor.divergences,
        ),
      ),
    )
    .add('GET', '/v1/networks', async () =>
      ok({ networks: await orCached(() => networks.list(), cachedNetworks, state.etcdUp) }),
    )
    .add('POST', '/v1/networks', async (ctx) => {
      const body = await ctx.body();
      ctx.audit.before = await networkNow(bodyField(body, 'vni'));
      const vni = bodyField(body, 'vni');
      if (typeof vni === 'number') await mirrors.assertVniFree(vni);
      const network = await networks.create(body);
      ctx.audit.after = network;
      return ok({ network }, 201);
    })
    .add('GET', '/v1/networks/:vni', async (ctx) => {
      const vni = vniParam(ctx.params.vni);
      const cached = (): NetworkRecord[] => cachedNetworks().filter((n) => n.vni === vni);
      const [network] = await orCached(async () => [await networks.get(vni)], cached, state.etcdUp);
      if (network === undefined) throw new ApiError('DVS_NOT_FOUND', `no network with vni ${vni}`, 'vni');
      return ok({ network });
    })
    .add('PATCH', '/v1/networks/:vni', async (ctx) => {
      ctx.audit.before = await networkNow(ctx.params.vni);
      ctx.audit.after = await networks.update(vniParam(ctx.params.vni), await ctx.body());
      return ok({ network: ctx.audit.after });
    })
    .add('PUT', '/v1/networks/:vni', async (ctx) => {
      ctx.audit.before = await networkNow(ctx.params.vni);
      ctx.audit.after = await networks.update(vniParam(ctx.params.vni), await ctx.body());
      return ok({ network: ctx.audit.after });
    })
    .add('DELETE', '/v1/networks/:vni', async (ctx) => {
      const vni = vniParam(ctx.params.vni);
      ctx.audit.before = await networkNow(vni);
      await networks.delete(vni);
      return ok({ deleted: { vni } });
    })
    .add('POST', '/v1/networks/:vni/external-vteps', async (ctx) => {
      ctx.audit.before = await networkNow(ctx.params.vni);
      ctx.audit.after = await networks.addExternalVtep(vniParam(ctx.params.vni), await ctx.body());
      return ok({ network: ctx.audit.after }, 201);
    })
    .add('DELETE', '/v1/networks/:vni/external-vteps/:address', async (ctx) => {
      ctx.audit.before = await networkNow(ctx.params.vni);
      ctx.audit.after = await networks.removeExternalVtep(
        vniParam(ctx.params.vni),
        ctx.params.address!,
        ctx.query.get('port'),
      );
      return ok({ network: ctx.audit.after });
    })
    .add('GET', '/v1/mirrors', async () => ok({ mirrors: await mirrors.list() }))
    .add('POST', '/v1/mirrors', async (ctx) => {
      ctx.audit.after = await mirrors.create(await ctx.body());
      return ok({ mirror: ctx.audit.after }, 201);
    })
    .add('GET', '/v1/mirrors/:name', async (ctx) => ok({ mirror: await mirrors.get(ctx.params.name!) }))
    .add('DELETE', '/v1/mirrors/:name', async (ctx) => {
      ctx.audit.before = await mirrors.delete(ctx.params.name!);
      return ok({ deleted: { name: ctx.params.name } });
    })
    .add('GET', '/v1/qos', async () => ok({ ports: await qos.list() }))
    .add('PUT', '/v1/ports/:host/:port/qos', async (ctx) => {
      ctx.audit.after = await qos.set(ctx.params.host, ctx.params.port, await ctx.body());
      return ok({ qos: ctx.audit.after });
    })
    .add('DELETE', '/v1/ports/:host/:port/qos', async (ctx) => {
      await qos.delete(ctx.params.host, ctx.params.port);
      return ok({ deleted: { host: ctx.params.host, port: ctx.params.port } });
    })
    .add('GET', '/v1/hosts', () => ok({ hosts: hostViews(view) }))
    .add('GET', '/v1/hosts/:host', (ctx) => {
      const found = hostViews(view).find((h) => h.host === ctx.params.host);
      if (found === undefined) throw new ApiError('DVS_NOT_FOUND', `no host ${ctx.params.host}`, 'host');
      return ok({ host: found });
    })
    .add('GET', '/v1/fdb', (ctx) => {
      const filter: FdbFilter = {};
      const vni = ctx.query.get('vni');
      const host = ctx.query.get('host');
      const mac = ctx.query.get('mac');
      const duplicate = ctx.query.get('duplicate');
      if (vni !== null) filter.vni = vniValue(vni);
      if (host !== null) filter.host = host;
      if (mac !== null) filter.mac = macValue(mac);
      if (duplicate !== null) filter.duplicate = duplicate === 'true' || duplicate === '1';
      return ok({ entries: fdbViews(view, filter, clock()) });
    })
    .add('POST', '/v1/fdb', async (ctx) => {
      const body = await ctx.body();
      ctx.audit.before = await fdbNow(bodyField(body, 'vni'), bodyField(body, 'mac'));
      const entry = await fdb.setStatic(body);
      ctx.audit.after = entry;
      return ok({ entry: { ...entry, ageMs: 0 } }, 201);
    })
    .add('DELETE', '/v1/fdb/:vni/:mac', async (ctx) => {
      ctx.audit.before = await fdbNow(ctx.params.vni, ctx.params.mac);
      return ok({ deleted: await fdb.deleteStatic(ctx.params.vni!, ctx.params.mac!) });
    })
    .add('POST', '/v1/fdb/:vni/:mac/clear', async (ctx) => {
      ctx.audit.before = await fdbNow(ctx.params.vni, ctx.params.mac);
      return ok({ entry: null, cleared: await fdb.clear(ctx.params.vni!, ctx.params.mac!) });
    })
    .add('GET', '/v1/flood', (ctx) => {
      const vniText = ctx.query.get('vni');
      const vni = vniText === null ? undefined : vniValue(vniText);
      const lists = [...view.flood.values()]
        .map((v) => v.record)
        .filter((r) => vni === undefined || r.vni === vni)
        .sort((a, b) => a.vni - b.vni);
      return ok({ floodLists: lists });
    })
    .add('GET', '/v1/divergences', () => ok(divergencesView(deps.auditor)))
    .add('POST', '/v1/divergences/repair', async (ctx) => {
      const target = repairTarget(await ctx.body());
      ctx.audit.after = target;
      return ok(await requestRepairs(deps.client, deps.keys, deps.auditor, target, clock()));
    })
    .add('GET', '/v1/tunnels', (ctx) => ok({ tunnels: tunnelViews(view, ctx.query.get('host') ?? undefined) }))
    .add(
      'GET',
      '/v1/audit',
      async (ctx) => {
        const limitText = ctx.query.get('limit');
        const limit = limitText === null ? deps.audit.capacity : intValue(Number(limitText), 'limit', 1, 100_000);
        const answer: AuditAnswer = { records: await deps.audit.list(limit), capacity: deps.audit.capacity };
        return ok(answer);
      },
      'admin',
    );
  // The cluster's flow export: /v1/sflow, /v1/ipfix.
  for (const exporter of FLOW_EXPORTERS) {
    router
      .add('GET', `/v1/${exporter}`, async () => ok({ [exporter]: await flowExport.get(exporter) }))
      .add('PUT', `/v1/${exporter}`, async (ctx) => {
        ctx.audit.before = await current(() => flowExport.get(exporter));
        ctx.audit.after = await flowExport.set(exporter, await ctx.body());
        return ok({ [exporter]: ctx.audit.after });
      })
      .add('DELETE', `/v1/${exporter}`, async (ctx) => {
        ctx.audit.before = await flowExport.clear(exporter);
        return ok({ deleted: { exporter } });
      });
  }
  return router;
}
