/**
 * The HTTP(S)+JSON API server (node:http/https, no framework; docs/api.md,
 * docs/security.md). Each request passes, in order:
 *
 *   1. Host check     a name the API does not answer to       → 421
 *   2. route          unknown path / method                    → 404 / 405
 *   3. credentials    none, or not accepted                    → 401
 *   4. role           the caller's role is below the route's   → 403
 *   5. content type   a write without application/json         → 415
 *   6. the handler    body size and fields checked as before    → 4xx / 2xx
 *
 * Every write (any method but GET) is then recorded in the audit log,
 * allowed or refused, before the reply is sent. etcd errors become 503
 * DVS_ETCD_UNAVAILABLE: nothing was changed. Nothing a handler throws, and
 * no failure while writing a reply, ends the process.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { MAX_API_BODY_BYTES, type AuditOutcome } from '@dvs/wire';
import type { Logger } from '../log.js';
import { ApiError } from './api-error.js';
import type { AuditLog } from './audit-log.js';
import { roleIncludes } from './trust/access-policy.js';
import type { ApiTrust } from './trust/api-trust.js';
import { identifyCaller } from './trust/caller.js';
import type { AuditSubject, Reply } from './router.js';
import { buildRouter, isEtcdFailure, type RouteDeps } from './routes.js';

export interface ApiDeps extends RouteDeps {
  trust: ApiTrust;
  audit: AuditLog;
  log: Logger;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_API_BODY_BYTES) {
        reject(new ApiError('DVS_BODY_TOO_LARGE', `request body over ${MAX_API_BODY_BYTES} bytes`));
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

const isJson = (contentType: string | undefined): boolean =>
  contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim());

export function createApiServer(deps: ApiDeps): Server {
  const router = buildRouter(deps);
  const { trust, log } = deps;

  const errorReply = (err: unknown, req: IncomingMessage, path: string): Reply => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (isEtcdFailure(err)) {
      apiError = new ApiError(
        'DVS_ETCD_UNAVAILABLE',
        `etcd is unavailable (${(err as Error).message}); nothing was changed, retry later`,
      );
    } else {
      log.error('API handler failed', { method: req.method, path, error: (err as Error)?.stack ?? String(err) });
      apiError = new ApiError('DVS_INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`);
    }
    return {
      status: apiError.status,
      body: apiError.toBody(),
      ...(apiError.status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}),
    };
  };

  const send = (res: ServerResponse, reply: Reply, req: IncomingMessage): void => {
    try {
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body) + '\n';
      res.writeHead(reply.status, {
        ...reply.headers,
        'content-type': reply.contentType ?? 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    } catch (err) {
      // A reply that cannot be serialised or written costs this request, never the process.
      log.error('API reply not written', { method: req.method, url: req.url, error: (err as Error)?.message });
      if (!res.headersSent) {
        const text = JSON.stringify(new ApiError('DVS_INTERNAL', 'internal error: reply not written').toBody());
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(text + '\n');
      } else res.destroy();
    }
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://controller');
    const write = method !== 'GET' && method !== 'HEAD';
    const caller = identifyCaller(req, trust);
    const audit: AuditSubject = { before: null, after: null };
    let route = 'unmatched';
    let handled = false;
    let reply: Reply;
    try {
      if (!trust.allowedHost(req.headers.host)) {
        throw new ApiError(
          'DVS_MISDIRECTED',
          `this controller does not answer to Host "${req.headers.host ?? ''}": call it by its IP address, ` +
            `a DNS name in its certificate, or a name given with --api-hostname`,
        );
      }
      const match = router.match(method, url.pathname);
      route = match.route;
      if (match.access !== 'public') {
        if (caller.refusal !== null) throw caller.refusal;
        const role = caller.grant!.role;
        if (!roleIncludes(role, match.access)) {
          throw new ApiError(
            'DVS_FORBIDDEN',
            `${caller.identity.name} has role ${role}; ${method} ${match.route} needs ${match.access}`,
          );
        }
      }
      if (write && !isJson(req.headers['content-type'])) {
        throw new ApiError(
          'DVS_UNSUPPORTED_MEDIA_TYPE',
          `a ${method} needs Content-Type: application/json (got ${JSON.stringify(req.headers['content-type'] ?? null)})`,
        );
      }
      handled = true;
      reply = await match.handler({ params: match.params, query: url.searchParams, body: () => readBody(req), audit });
    } catch (err) {
      reply = errorReply(err, req, url.pathname);
    }
    deps.metrics.countHttp(route, reply.status);
    if (write) {
      const outcome: AuditOutcome = reply.status < 400 ? 'allowed' : handled ? 'failed' : 'refused';
      const error = (reply.body as { error?: { code?: string; message?: string } } | null)?.error;
      await deps.audit.record({
        who: caller.identity,
        request: { method, path: url.pathname, route },
        outcome,
        status: reply.status,
        code: (error?.code as never) ?? null,
        message: error?.message ?? null,
        before: audit.before,
        after: outcome === 'allowed' ? audit.after : audit.before,
      });
    }
    send(res, reply, req);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    answer(req, res).catch((err: unknown) => {
      log.error('API request failed', {
        method: req.method,
        url: req.url,
        error: (err as Error)?.stack ?? String(err),
      });
      if (!res.headersSent) send(res, errorReply(err, req, req.url ?? ''), req);
      else res.destroy();
    });
  };
  const server: Server = trust.tls
    ? createHttpsServer(
        {
          cert: trust.tls.cert,
          key: trust.tls.key,
          minVersion: 'TLSv1.2',
          // Client certificates are optional per connection (a token works too), verified against the client CA.
          ...(trust.tls.ca !== undefined ? { ca: trust.tls.ca, requestCert: true, rejectUnauthorized: false } : {}),
        },
        onRequest,
      )
    : createHttpServer(onRequest);
  server.on('clientError', (err: Error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
    log.debug('API client error', { error: err.message });
  });
  server.on('tlsClientError', (err: Error) => log.debug('API TLS handshake failed', { error: err.message }));
  return server;
}
