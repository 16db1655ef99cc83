/** Starts controllers against a test etcd and talks to their HTTP API. */
import { Controller } from '../../src/index.js';
import type { DampeningOptions } from '../../src/tables/mobility.js';

export async function startController(
  endpoint: string,
  id: string,
  extra: { electionTtlSeconds?: number; dampening?: DampeningOptions; prefix?: string } = {},
): Promise<Controller> {
  return Controller.start({
    id,
    etcd: { endpoints: [endpoint], callTimeoutMs: 2000 },
    listen: '127.0.0.1:0',
    // Plain HTTP on loopback, every caller admin: these tests are about the tables (trust: controller-trust tests).
    api: { insecureLocal: true },
    electionTtlSeconds: extra.electionTtlSeconds ?? 2,
    ...(extra.dampening ? { dampening: extra.dampening } : {}),
    ...(extra.prefix ? { prefix: extra.prefix } : {}),
  });
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  controller: Controller | string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const base = typeof controller === 'string' ? controller : controller.address;
  const res = await fetch(base + path, {
    method,
    // Every write says it is JSON, bodiless DELETEs too: the API refuses others with 415.
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: res.status, body: parsed as T };
}
