/**
 * A tiny path router: routes are `METHOD /v1/networks/:vni` patterns, each
 * with the least role that may call it (reads: viewer, writes: operator,
 * unless said otherwise); a path that matches some route but not the method
 * answers 405.
 */
import type { ApiRole } from '@dvs/wire';
import { ApiError } from './api-error.js';

/** The entry a write addressed, before and after; handlers fill it for the audit log. */
export interface AuditSubject {
  before: unknown;
  after: unknown;
}

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (rejects with ApiError on bad JSON / too large). */
  body(): Promise<unknown>;
  audit: AuditSubject;
}

/** `public`: no credentials needed (health checks). */
export type RouteAccess = ApiRole | 'public';

export interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

interface Route {
  method: string;
  segments: string[];
  /** Pattern text, used as the metrics label. */
  name: string;
  handler: Handler;
  access: RouteAccess;
}

export interface Match {
  route: string;
  handler: Handler;
  params: Record<string, string>;
  access: RouteAccess;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, access?: RouteAccess): this {
    this.routes.push({
      method,
      segments: pattern.split('/').filter(Boolean),
      name: pattern,
      handler,
      access: access ?? (method === 'GET' ? 'viewer' : 'operator'),
    });
    return this;
  }

  /** Finds the route for a request; throws ApiError 404/405. */
  match(method: string, path: string): Match {
    const parts = path
      .split('/')
      .filter(Boolean)
      .map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === null) continue;
      if (route.method === method) return { route: route.name, handler: route.handler, params, access: route.access };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      throw new ApiError('DVS_METHOD_NOT_ALLOWED', `${method} not allowed on ${path} (allowed: ${allowed.join(', ')})`);
    }
    throw new ApiError('DVS_NOT_FOUND', `no such endpoint: ${method} ${path} (see docs/api.md)`);
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return null;
  }
  return params;
}
