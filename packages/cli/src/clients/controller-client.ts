/**
 * A small client of the controller HTTP API (docs/api.md), to a URL or
 * through a unix socket that reaches it (a lab's forwarder). Network failures become ControllerUnreachableError (exit 1, says how to
 * point the CLI elsewhere); error bodies become ControllerApiError with the
 * controller's stable code.
 */
import { ControllerApiError, ControllerUnreachableError } from '../cli-errors.js';
import { httpExchange, type HttpAnswer } from './http-exchange.js';
import type {
  ClearedFdbAnswer,
  ClusterStatus,
  FdbEntryView,
  FdbQuery,
  FloodListView,
  HostView,
  NetworkCreate,
  NetworkUpdate,
  NetworkView,
  StaticFdbCreate,
  TunnelStatusView,
} from './controller-api.js';

export interface ControllerClientOptions {
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Connect through this unix socket instead of the URL's host (the URL still names the API). */
  socketPath?: string;
  /** The lab this controller belongs to (`dvs --lab`): named in errors. */
  lab?: string;
}

function causeOf(error: unknown): string {
  const e = error as { name?: string; code?: unknown; message?: string };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (typeof e?.code === 'string' && e.code !== 'ABORT_ERR') return e.code;
  if (e?.name === 'AbortError') return 'aborted';
  return e?.message ?? String(error);
}

export class ControllerClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly signal?: AbortSignal;
  private readonly socketPath?: string;
  private readonly lab?: string;

  constructor(baseUrl: string, options: ControllerClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.signal = options.signal;
    this.socketPath = options.socketPath;
    this.lab = options.lab;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: HttpAnswer;
    try {
      response = await httpExchange(new URL(this.baseUrl + path), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.timeoutMs,
        socketPath: this.socketPath,
        signal: this.signal,
      });
    } catch (error) {
      throw new ControllerUnreachableError(this.baseUrl, causeOf(error), this.socketPath, this.lab);
    }
    const text = response.text;
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (response.status < 200 || response.status > 299) {
      const e = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
      if (e && typeof e.code === 'string' && typeof e.message === 'string') {
        throw new ControllerApiError(e.code, e.message, response.status, typeof e.field === 'string' ? e.field : null);
      }
      throw new ControllerApiError(
        'DVS_HTTP_ERROR',
        `controller at ${this.baseUrl} answered ${method} ${path} with HTTP ${response.status}: is that a dvs-controller?`,
        response.status,
        null,
      );
    }
    if (parsed === null || typeof parsed !== 'object') {
      throw new ControllerApiError(
        'DVS_BAD_RESPONSE',
        `controller at ${this.baseUrl} answered ${method} ${path} with something that is not JSON: is that a dvs-controller?`,
        response.status,
        null,
      );
    }
    return parsed as T;
  }

  status(): Promise<ClusterStatus> {
    return this.request('GET', '/v1/status');
  }

  async hosts(): Promise<HostView[]> {
    return (await this.request<{ hosts: HostView[] }>('GET', '/v1/hosts')).hosts;
  }

  async networks(): Promise<NetworkView[]> {
    return (await this.request<{ networks: NetworkView[] }>('GET', '/v1/networks')).networks;
  }

  async network(vni: number): Promise<NetworkView> {
    return (await this.request<{ network: NetworkView }>('GET', `/v1/networks/${vni}`)).network;
  }

  async createNetwork(body: NetworkCreate): Promise<NetworkView> {
    return (await this.request<{ network: NetworkView }>('POST', '/v1/networks', body)).network;
  }

  async updateNetwork(vni: number, body: NetworkUpdate): Promise<NetworkView> {
    return (await this.request<{ network: NetworkView }>('PATCH', `/v1/networks/${vni}`, body)).network;
  }

  async deleteNetwork(vni: number): Promise<{ vni: number }> {
    return (await this.request<{ deleted: { vni: number } }>('DELETE', `/v1/networks/${vni}`)).deleted;
  }

  async addExternalVtep(
    vni: number,
    vtep: { address: string; port?: number; description?: string },
  ): Promise<NetworkView> {
    return (await this.request<{ network: NetworkView }>('POST', `/v1/networks/${vni}/external-vteps`, vtep)).network;
  }

  async removeExternalVtep(vni: number, address: string, port?: number): Promise<NetworkView> {
    const query = port === undefined ? '' : `?port=${port}`;
    const path = `/v1/networks/${vni}/external-vteps/${encodeURIComponent(address)}${query}`;
    return (await this.request<{ network: NetworkView }>('DELETE', path)).network;
  }

  async fdb(query: FdbQuery = {}): Promise<FdbEntryView[]> {
    const params = new URLSearchParams();
    if (query.vni !== undefined) params.set('vni', String(query.vni));
    if (query.host !== undefined) params.set('host', query.host);
    if (query.mac !== undefined) params.set('mac', query.mac);
    if (query.duplicate !== undefined) params.set('duplicate', String(query.duplicate));
    const qs = params.toString();
    return (await this.request<{ entries: FdbEntryView[] }>('GET', `/v1/fdb${qs ? `?${qs}` : ''}`)).entries;
  }

  async addStaticFdb(body: StaticFdbCreate): Promise<FdbEntryView> {
    return (await this.request<{ entry: FdbEntryView }>('POST', '/v1/fdb', body)).entry;
  }

  async deleteStaticFdb(vni: number, mac: string): Promise<{ vni: number; mac: string }> {
    return (await this.request<{ deleted: { vni: number; mac: string } }>('DELETE', `/v1/fdb/${vni}/${mac}`)).deleted;
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
    return (await this.request<{ floodLists: FloodListView[] }>('GET', `/v1/flood${qs}`)).floodLists;
  }

  async tunnels(host?: string): Promise<TunnelStatusView[]> {
    const qs = host === undefined ? '' : `?host=${encodeURIComponent(host)}`;
    return (await this.request<{ tunnels: TunnelStatusView[] }>('GET', `/v1/tunnels${qs}`)).tunnels;
  }
}
