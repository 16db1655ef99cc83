/**
 * The one client of the controller HTTP API (docs/api.md), used by the CLI,
 * the lab and the tests: node:http/https, so it speaks TLS with a private CA
 * and client certificates, bearer tokens, and can reach a controller through
 * a unix socket. Network failures become ControllerUnreachableError (exit 1,
 * says how to point the CLI elsewhere); error bodies become
 * ControllerApiError with the controller's stable code.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ipFamily } from '@dvs/wire';
import type {
  MirrorRecord,
  FlowExporterName,
  IpfixRecord,
  SflowRecord,
  PortQosRecord,
  AuditAnswer,
  DivergencesView,
  RepairView,
  ClearedFdbAnswer,
  DeletedFdbAnswer,
  DeletedNetworkAnswer,
  ExternalVtepInput,
  FdbAnswer,
  FdbEntryAnswer,
  FdbEntryView,
  FdbQuery,
  FloodAnswer,
  FloodListView,
  HealthView,
  HostsAnswer,
  HostView,
  NetworkAnswer,
  NetworkCreate,
  NetworksAnswer,
  NetworkUpdate,
  NetworkView,
  StaticFdbCreate,
  StatusView,
  TunnelsAnswer,
  TunnelStatusView,
} from '@dvs/wire';
import { ControllerApiError, ControllerUnreachableError } from '../cli-errors.js';

/** How the client proves who it is and whom it trusts (PEM contents, not paths). */
export interface ControllerCredentials {
  /** CA that signed the controller's certificate (default: the system's CAs). */
  ca?: string | Buffer;
  /** Client certificate and key. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token. */
  token?: string;
}

export interface ControllerClientOptions extends ControllerCredentials {
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Connect through this unix socket; the URL still gives the scheme, the Host header and the TLS name. */
  socketPath?: string;
  /** The lab this controller belongs to (`dvs --lab`): named in errors. */
  lab?: string;
}

/** A raw answer: any status, the body parsed as JSON when it is JSON. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

function causeOf(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string; cause?: { name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timed out';
  if (e?.name === 'AbortError') return 'aborted';
  if (e?.code !== undefined && TLS_TRUST_ERRORS.has(e.code)) {
    return `${e.code}: the controller's certificate is not trusted; give the CA that signed it with --cacert`;
  }
  return e?.code ?? e?.message ?? String(error);
}

/** openssl verify errors that mean "this client does not trust that certificate". */
const TLS_TRUST_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class ControllerClient {
  readonly baseUrl: string;
  private readonly url: URL;
  private readonly options: ControllerClientOptions;

  constructor(baseUrl: string, options: ControllerClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.url = new URL(this.baseUrl);
    this.options = options;
  }

  /** One request; resolves with any status, rejects only when the controller cannot be reached. */
  send(method: string, path: string, body?: unknown, timeoutMs = this.options.timeoutMs ?? 5000): Promise<HttpAnswer> {
    const o = this.options;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signals = [AbortSignal.timeout(timeoutMs), ...(o.signal ? [o.signal] : [])];
    const headers: Record<string, string> = { accept: 'application/json' };
    // Every write says it is JSON, bodiless ones too: the API refuses others (415).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    const https = this.url.protocol === 'https:';
    const target: RequestOptions & {
      ca?: string | Buffer;
      cert?: string | Buffer;
      key?: string | Buffer;
      servername?: string;
    } = {
      method,
      path: this.url.pathname.replace(/\/+$/, '') + path,
      headers: { ...headers, host: this.url.host },
      signal: AbortSignal.any(signals),
      ...(o.socketPath !== undefined
        ? { socketPath: o.socketPath }
        : { hostname: this.url.hostname.replace(/^\[(.*)\]$/, '$1'), port: this.url.port || (https ? 443 : 80) }),
      ...(https
        ? {
            // SNI carries names only (RFC 6066); the certificate is still checked against an IP.
            ...(ipFamily(this.url.hostname.replace(/^\[(.*)\]$/, '$1')) === 0 ? { servername: this.url.hostname } : {}),
            ...(o.ca !== undefined ? { ca: o.ca } : {}),
            ...(o.cert !== undefined ? { cert: o.cert } : {}),
            ...(o.key !== undefined ? { key: o.key } : {}),
          }
        : {}),
    };
    return new Promise((resolve, reject) => {
      const fail = (error: unknown): void =>
        reject(new ControllerUnreachableError(this.baseUrl, causeOf(error), o.socketPath, o.lab));
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // not JSON: keep the text (metrics are text)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      };
      const req = https ? httpsRequest(target, onResponse) : httpRequest(target, onResponse);
      req.on('error', fail);
      req.end(payload);
    });
  }

  /** A request whose answer must be 2xx JSON; anything else throws ControllerApiError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: parsed } = await this.send(method, path, body);
    if (status < 200 || status >= 300) {
      const e = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
      if (e && typeof e.code === 'string' && typeof e.message === 'string') {
        throw new ControllerApiError(e.code, e.message, status, typeof e.field === 'string' ? e.field : null);
      }
      throw new ControllerApiError(
        'DVS_HTTP_ERROR',
        `controller at ${this.baseUrl} answered ${method} ${path} with HTTP ${status}: is that a dvs-controller?`,
        status,
        null,
      );
    }
    if (parsed === null || typeof parsed !== 'object') {
      throw new ControllerApiError(
        'DVS_BAD_RESPONSE',
        `controller at ${this.baseUrl} answered ${method} ${path} with something that is not JSON: is that a dvs-controller?`,
        status,
        null,
      );
    }
    return parsed as T;
  }

  /** `GET /healthz`: the body on 200 and on 503 (unavailable) alike. */
  async health(timeoutMs?: number): Promise<HealthView> {
    const { status, body } = await this.send('GET', '/healthz', undefined, timeoutMs);
    if ((status === 200 || status === 503) && typeof body === 'object' && body !== null) return body as HealthView;
    throw new ControllerApiError(
      'DVS_HTTP_ERROR',
      `controller at ${this.baseUrl}: /healthz answered ${status}`,
      status,
      null,
    );
  }

  status(): Promise<StatusView> {
    return this.request('GET', '/v1/status');
  }

  async hosts(): Promise<HostView[]> {
    return (await this.request<HostsAnswer>('GET', '/v1/hosts')).hosts;
  }

  async networks(): Promise<NetworkView[]> {
    return (await this.request<NetworksAnswer>('GET', '/v1/networks')).networks;
  }

  async network(vni: number): Promise<NetworkView> {
    return (await this.request<NetworkAnswer>('GET', `/v1/networks/${vni}`)).network;
  }

  async createNetwork(body: NetworkCreate): Promise<NetworkView> {
    return (await this.request<NetworkAnswer>('POST', '/v1/networks', body)).network;
  }

  async updateNetwork(vni: number, body: NetworkUpdate): Promise<NetworkView> {
    return (await this.request<NetworkAnswer>('PATCH', `/v1/networks/${vni}`, body)).network;
  }

  async deleteNetwork(vni: number): Promise<{ vni: number }> {
    return (await this.request<DeletedNetworkAnswer>('DELETE', `/v1/networks/${vni}`)).deleted;
  }

  async addExternalVtep(vni: number, vtep: ExternalVtepInput): Promise<NetworkView> {
    return (await this.request<NetworkAnswer>('POST', `/v1/networks/${vni}/external-vteps`, vtep)).network;
  }

  async removeExternalVtep(vni: number, address: string, port?: number): Promise<NetworkView> {
    const query = port === undefined ? '' : `?port=${port}`;
    const path = `/v1/networks/${vni}/external-vteps/${encodeURIComponent(address)}${query}`;
    return (await this.request<NetworkAnswer>('DELETE', path)).network;
  }

  async fdb(query: FdbQuery = {}): Promise<FdbEntryView[]> {
    const params = new URLSearchParams();
    if (query.vni !== undefined) params.set('vni', String(query.vni));
    if (query.host !== undefined) params.set('host', query.host);
    if (query.mac !== undefined) params.set('mac', query.mac);
    if (query.duplicate !== undefined) params.set('duplicate', String(query.duplicate));
    const qs = params.toString();
    return (await this.request<FdbAnswer>('GET', `/v1/fdb${qs ? `?${qs}` : ''}`)).entries;
  }

  async portQos(): Promise<PortQosRecord[]> {
    return (await this.request<{ ports: PortQosRecord[] }>('GET', '/v1/qos')).ports;
  }
  async setPortQos(host: string, port: string, body: Record<string, unknown>): Promise<PortQosRecord> {
    const path = `/v1/ports/${encodeURIComponent(host)}/${encodeURIComponent(port)}/qos`;
    return (await this.request<{ qos: PortQosRecord }>('PUT', path, body)).qos;
  }
  async clearPortQos(host: string, port: string): Promise<{ host: string; port: string }> {
    const path = `/v1/ports/${encodeURIComponent(host)}/${encodeURIComponent(port)}/qos`;
    return (await this.request<{ deleted: { host: string; port: string } }>('DELETE', path)).deleted;
  }
  async mirrors(): Promise<MirrorRecord[]> {
    return (await this.request<{ mirrors: MirrorRecord[] }>('GET', '/v1/mirrors')).mirrors;
  }
  async createMirror(body: Record<string, unknown>): Promise<MirrorRecord> {
    return (await this.request<{ mirror: MirrorRecord }>('POST', '/v1/mirrors', body)).mirror;
  }
  async deleteMirror(name: string): Promise<{ name: string }> {
    const path = `/v1/mirrors/${encodeURIComponent(name)}`;
    return (await this.request<{ deleted: { name: string } }>('DELETE', path)).deleted;
  }
  /** The cluster's sFlow or IPFIX settings (null: none). */
  async flowExport(exporter: FlowExporterName): Promise<SflowRecord | IpfixRecord | null> {
    const answer = await this.request<Record<string, SflowRecord | IpfixRecord | null>>('GET', `/v1/${exporter}`);
    return answer[exporter] ?? null;
  }
  async setFlowExport(exporter: FlowExporterName, body: Record<string, unknown>): Promise<SflowRecord | IpfixRecord> {
    return (await this.request<Record<string, SflowRecord | IpfixRecord>>('PUT', `/v1/${exporter}`, body))[exporter]!;
  }
  async clearFlowExport(exporter: FlowExporterName): Promise<{ exporter: string }> {
    return (await this.request<{ deleted: { exporter: string } }>('DELETE', `/v1/${exporter}`)).deleted;
  }
  async addStaticFdb(body: StaticFdbCreate): Promise<FdbEntryView> {
    return (await this.request<FdbEntryAnswer>('POST', '/v1/fdb', body)).entry;
  }

  async deleteStaticFdb(vni: number, mac: string): Promise<{ vni: number; mac: string }> {
    return (await this.request<DeletedFdbAnswer>('DELETE', `/v1/fdb/${vni}/${mac}`)).deleted;
  }

  /**
   * Drops a learned entry with its freeze and move history. The controller
   * answers `{ entry: null, cleared }`: the leader re-decides the location
   * afterwards, so the new entry is read with fdb(), never from this answer.
   */
  async clearDuplicate(vni: number, mac: string): Promise<ClearedFdbAnswer> {
    return this.request<ClearedFdbAnswer>('POST', `/v1/fdb/${vni}/${mac}/clear`);
  }

  async flood(vni?: number): Promise<FloodListView[]> {
    const qs = vni === undefined ? '' : `?vni=${vni}`;
    return (await this.request<FloodAnswer>('GET', `/v1/flood${qs}`)).floodLists;
  }

  async tunnels(host?: string): Promise<TunnelStatusView[]> {
    const qs = host === undefined ? '' : `?host=${encodeURIComponent(host)}`;
    return (await this.request<TunnelsAnswer>('GET', `/v1/tunnels${qs}`)).tunnels;
  }

  /** Where agents' data paths disagree with the controller's tables (`dvs audit`). */
  divergences(): Promise<DivergencesView> {
    return this.request<DivergencesView>('GET', '/v1/divergences');
  }

  /** Asks the agents that diverge (or the one host and VNI given) to apply those VNIs afresh. */
  repairDivergences(target: { host?: string; vni?: number } = {}): Promise<RepairView> {
    return this.request<RepairView>('POST', '/v1/divergences/repair', target);
  }

  /** The newest audit records, oldest first (admin only). */
  auditLog(limit?: number): Promise<AuditAnswer> {
    return this.request<AuditAnswer>('GET', `/v1/audit${limit === undefined ? '' : `?limit=${limit}`}`);
  }
}
