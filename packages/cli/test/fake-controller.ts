// A stand-in controller for CLI tests: canned JSON per "METHOD /path?query",
// records every request (with its body) so tests can check what was sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResponse {
  status?: number;
  body: unknown;
}

export class FakeController {
  readonly routes = new Map<string, FakeResponse>();
  readonly requests: { method: string; url: string; body: unknown }[] = [];
  private server: Server | null = null;
  url = '';

  on(route: string, body: unknown, status = 200): this {
    this.routes.set(route, { body, status });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = raw === '' ? null : (JSON.parse(raw) as unknown);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        const found =
          this.routes.get(`${req.method} ${req.url}`) ??
          this.routes.get(`${req.method} ${(req.url ?? '').split('?')[0]}`);
        const reply = found ?? {
          status: 404,
          body: { error: { code: 'DVS_NOT_FOUND', message: `no route ${req.url}`, field: null } },
        };
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A loopback port with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
