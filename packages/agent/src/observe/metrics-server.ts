import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Prometheus endpoint: GET /metrics answers `render()`; anything else 404.
 * Kept outside the data path (which never imports http).
 */
export class MetricsServer {
  private server: Server | null = null;

  constructor(private readonly render: () => string) {}

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        let body: string;
        try {
          body = this.render();
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
