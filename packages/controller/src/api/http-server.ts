/**
 * The HTTP+JSON API (node:http, no framework). Routes and shapes: docs/api.md.
 * Reads come from the ClusterView (networks straight from etcd, so a client
 * reads its own writes); writes go to etcd through the stores. etcd errors
 * become 503 DVS_ETCD_UNAVAILABLE: nothing was changed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EtcdError, GRPCGenericError, type Etcd3 } from 'etcd3';
import type { KeyLayout, NetworkRecord } from '@dvs/wire';
import type { Logger } from '../log.js';
import type { ControllerMetrics } from '../metrics.js';
import type { ClusterView } from '../view/cluster-view.js';
import { ApiError } from './api-error.js';
import { FdbStore } from './fdb-store.js';
import { macValue, vniValue } from './input.js';
import { NetworkStore } from './network-store.js';
import { Router, type Reply } from './router.js';
import { fdbViews, hostViews, statusView, tunnelViews, type FdbFilter } from './views.js';

export const MAX_BODY_BYTES = 1 << 20;

export interface ApiState {
  id: string;
  isLeader(): boolean;
  etcdUp(): boolean;
}

export interface ApiDeps {
  client: Etcd3;
  keys: KeyLayout;
  view: ClusterView;
  metrics: ControllerMetrics;
  state: ApiState;
  log: Logger;
  clock?: () => number;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('DVS_BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new ApiError('DVS_INVALID_JSON', `request body is not JSON: ${(err as Error).message}`));
      }
    });
  });
}

function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

export function buildRouter(deps: ApiDeps): Router {
  const { view, state, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const networks = new NetworkStore(deps.client, deps.keys, clock);
  const fdb = new FdbStore(deps.client, deps.keys, networks, clock);
  const vniParam = (text: string | undefined): number => vniValue(text ?? '', 'vni');
  const cachedNetworks = (): NetworkRecord[] =>
    [...view.networks.values()].map((v) => v.record).sort((a, b) => a.vni - b.vni);

  return new Router()
    .add('GET', '/healthz', () => {
      const healthy = state.etcdUp() && view.loaded;
      return ok(
        {
          status: healthy ? 'ok' : 'unavailable',
          id: state.id,
          leader: state.isLeader(),
          etcd: state.etcdUp() ? 'up' : 'down',
          revision: view.revision,
        },
        healthy ? 200 : 503,
      );
    })
    .add('GET', '/metrics', () => ({
      status: 200,
      body: metrics.render(view, { leader: state.isLeader(), etcdUp: state.etcdUp() }),
      contentType: 'text/plain; version=0.0.4',
    }))
    .add('GET', '/v1/status', () =>
      ok(statusView(view, { id: state.id, leader: state.isLeader(), etcdUp: state.etcdUp() })),
    )
    .add('GET', '/v1/networks', async () =>
      ok({ networks: await orCached(() => networks.list(), cachedNetworks, state.etcdUp) }),
    )
    .add('POST', '/v1/networks', async (ctx) => ok({ network: await networks.create(await ctx.body()) }, 201))
    .add('GET', '/v1/networks/:vni', async (ctx) => {
      const vni = vniParam(ctx.params.vni);
      const cached = (): NetworkRecord[] => cachedNetworks().filter((n) => n.vni === vni);
      const [network] = await orCached(async () => [await networks.get(vni)], cached, state.etcdUp);
      if (network === undefined) throw new ApiError('DVS_NOT_FOUND', `no network with vni ${vni}`, 'vni');
      return ok({ network });
    })
    .add('PATCH', '/v1/networks/:vni', async (ctx) =>
      ok({ network: await networks.update(vniParam(ctx.params.vni), await ctx.body()) }),
    )
    .add('PUT', '/v1/networks/:vni', async (ctx) =>
      ok({ network: await networks.update(vniParam(ctx.params.vni), await ctx.body()) }),
    )
    .add('DELETE', '/v1/networks/:vni', async (ctx) => {
      const vni = vniParam(ctx.params.vni);
      await networks.delete(vni);
      return ok({ deleted: { vni } });
    })
    .add('POST', '/v1/networks/:vni/external-vteps', async (ctx) =>
      ok({ network: await networks.addExternalVtep(vniParam(ctx.params.vni), await ctx.body()) }, 201),
    )
    .add('DELETE', '/v1/networks/:vni/external-vteps/:address', async (ctx) =>
      ok({
        network: await networks.removeExternalVtep(
          vniParam(ctx.params.vni),
          ctx.params.address!,
          ctx.query.get('port'),
        ),
      }),
    )
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
    .add('POST', '/v1/fdb', async (ctx) => ok({ entry: { ...(await fdb.setStatic(await ctx.body())), ageMs: 0 } }, 201))
    .add('DELETE', '/v1/fdb/:vni/:mac', async (ctx) =>
      ok({ deleted: await fdb.deleteStatic(ctx.params.vni!, ctx.params.mac!) }),
    )
    .add('POST', '/v1/fdb/:vni/:mac/clear', async (ctx) =>
      ok({ entry: null, cleared: await fdb.clear(ctx.params.vni!, ctx.params.mac!) }),
    )
    .add('GET', '/v1/flood', (ctx) => {
      const vniText = ctx.query.get('vni');
      const vni = vniText === null ? undefined : vniValue(vniText);
      const lists = [...view.flood.values()]
        .map((v) => v.record)
        .filter((r) => vni === undefined || r.vni === vni)
        .sort((a, b) => a.vni - b.vni);
      return ok({ floodLists: lists });
    })
    .add('GET', '/v1/tunnels', (ctx) => ok({ tunnels: tunnelViews(view, ctx.query.get('host') ?? undefined) }));
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

function isEtcdFailure(err: unknown): boolean {
  return err instanceof GRPCGenericError || err instanceof EtcdError || (err as Error)?.name === 'BrokenCircuitError';
}

export function createApiServer(deps: ApiDeps): Server {
  const router = buildRouter(deps);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://controller');
    let route = 'unmatched';
    const send = (reply: Reply): void => {
      deps.metrics.countHttp(route, reply.status);
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body) + '\n';
      res.writeHead(reply.status, {
        'content-type': reply.contentType ?? 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const fail = (err: unknown): void => {
      let apiError: ApiError;
      if (err instanceof ApiError) apiError = err;
      else if (isEtcdFailure(err)) {
        apiError = new ApiError(
          'DVS_ETCD_UNAVAILABLE',
          `etcd is unavailable (${(err as Error).message}); nothing was changed, retry later`,
        );
      } else {
        deps.log.error('API handler failed', {
          method: req.method,
          path: url.pathname,
          error: (err as Error)?.stack ?? String(err),
        });
        apiError = new ApiError('DVS_INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`);
      }
      send({ status: apiError.status, body: apiError.toBody() });
    };
    try {
      const match = router.match(req.method ?? 'GET', url.pathname);
      route = match.route;
      Promise.resolve(match.handler({ params: match.params, query: url.searchParams, body: () => readBody(req) })).then(
        send,
        fail,
      );
    } catch (err) {
      fail(err);
    }
  });
}
