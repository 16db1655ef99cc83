/**
 * The few controller API calls the lab makes (see docs/api.md), over HTTP
 * through the lab's unix-socket forwarder into the underlay namespace.
 */
import { request } from 'node:http';
import { LabError } from './errors.js';

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** The fields of a controller FDB entry the lab reads (docs/api.md). */
export interface ControllerFdbEntry {
  vni: number;
  mac: string;
  host: string | null;
  vtep: { address: string; port: number };
  seq: number;
  moves?: number;
  duplicate?: boolean;
}

export class ControllerClient {
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  send(method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new LabError('DVS_LAB_UNAVAILABLE', `controller ${method} ${path}: ${e.message}`)));
      req.end(payload);
    });
  }

  async healthy(): Promise<boolean> {
    try {
      const r = await this.send('GET', '/healthz', undefined, 1000);
      return r.status === 200;
    } catch {
      return false;
    }
  }

  private async expectOk(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.send(method, path, body);
    if (r.status < 200 || r.status >= 300) {
      throw new LabError(
        'DVS_LAB_COMMAND_FAILED',
        `controller ${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`,
      );
    }
    return r.body;
  }

  createNetwork(network: Record<string, unknown>): Promise<unknown> {
    return this.expectOk('POST', '/v1/networks', network);
  }

  /** The authoritative FDB entries of a VNI (optionally one MAC). */
  async fdb(vni: number, mac?: string): Promise<ControllerFdbEntry[]> {
    const query = `vni=${vni}` + (mac ? `&mac=${encodeURIComponent(mac)}` : '');
    const body = (await this.expectOk('GET', `/v1/fdb?${query}`)) as { entries?: ControllerFdbEntry[] } | null;
    return body?.entries ?? [];
  }
}
