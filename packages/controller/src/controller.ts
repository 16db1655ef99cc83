/**
 * dvs-controller composed: one etcd client, a ClusterView kept live by a
 * KeyspaceFollower, a leader campaign, the leader's Reconciler and the HTTP API.
 * Starts on an empty or an existing keyspace alike: it reads what is there
 * and reconciles toward it, it never wipes. Before serving it checks the
 * keyspace's key layout (keyspace/keyspace-layout.ts), waiting for etcd if
 * need be, and refuses a layout-1 keyspace with the command that converts it.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { KeyLayout, DEFAULT_KEY_PREFIX } from '@dvs/wire';
import type { Etcd3 } from 'etcd3';
import { AuditLog, DEFAULT_AUDIT_CAPACITY } from './api/audit-log.js';
import { createApiServer } from './api/http-server.js';
import { resolveApiTrust, type ApiTrust, type ApiTrustOptions } from './api/trust/api-trust.js';
import { ControllerError } from './controller-error.js';
import { ensureKeyspaceLayout } from './keyspace/keyspace-layout.js';
import { createEtcdClient, KeyspaceFollower, type EtcdConnectionOptions } from '@dvs/etcd';
import { Leadership } from './leader/leadership.js';
import { Reconciler } from './leader/reconciler.js';
import { admitAll } from './leader/full-tables.js';
import type { IgnoredRecord } from './tables/admission.js';
import { InvalidRecordLog } from './view/invalid-record-log.js';
import { DEFAULT_STALE_POLICY, type StalePolicy } from './view/stale-hosts.js';
import { silentLogger, type Logger } from './log.js';
import { ControllerMetrics } from './metrics.js';
import { DEFAULT_DAMPENING, type DampeningOptions } from './tables/mobility.js';
import { TableAuditor } from './view/table-audit.js';
import { ClusterView } from './view/cluster-view.js';

export interface ControllerOptions {
  /** Replica id, shown as the leader's name (default: hostname-pid). */
  id: string;
  etcd: EtcdConnectionOptions;
  /** Key prefix (default `/dvs/v1/`). */
  prefix?: string;
  /** `host:port` (port 0 = any free port) or an absolute unix socket path. */
  listen: string;
  /** Election lease TTL in seconds (default 10). */
  electionTtlSeconds?: number;
  dampening?: DampeningOptions;
  /** What happens to a host's entries when its lease expires (default: kept stale, view/stale-hosts.ts). */
  stalePolicy?: StalePolicy;
  /** How long an agent's data path must disagree with the tables before `dvs audit` names it (ms, default 3000). */
  auditSettleMs?: number;
  /**
   * How the API authenticates (docs/security.md): TLS, tokens, client
   * certificates, or `insecureLocal` (plain HTTP, loopback only).
   */
  api: ApiTrustOptions;
  /** Audit records kept in etcd (default 1000). */
  auditCapacity?: number;
  log?: Logger;
  signal?: AbortSignal;
}

export interface ControllerEvents {
  'leader:elected': [];
  'leader:lost': [reason: string];
  'etcd:down': [error: Error];
  'etcd:up': [];
}

export { ControllerError };

function listenOn(server: Server, listen: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new ControllerError('DVS_LISTEN_FAILED', `cannot listen on ${listen}: ${err.message}`, 'listen'));
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (listen.startsWith('/')) {
      server.listen({ path: listen, signal }, done);
      return;
    }
    const colon = listen.lastIndexOf(':');
    const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(listen.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
      reject(
        new ControllerError(
          'DVS_CONFIG_INVALID',
          `listen must be host:port or a unix socket path (got "${listen}")`,
          'listen',
        ),
      );
      return;
    }
    server.listen({ host, port, signal }, done);
  });
}

/** View sections whose changes never change the tables: no leader round for them. */
const NO_TABLE_CHANGE = new Set<string>(['election', 'digest', 'resync']);
/** How often the agents' digests are compared with the tables. */
const AUDIT_INTERVAL_MS = 1000;

export class Controller extends EventEmitter<ControllerEvents> {
  readonly keys: KeyLayout;
  readonly view: ClusterView;
  readonly metrics = new ControllerMetrics();
  private readonly client: Etcd3;
  private readonly watch: KeyspaceFollower;
  private readonly leadership: Leadership;
  private readonly reconciler: Reconciler;
  private readonly server: Server;
  private readonly log: Logger;
  readonly audit: AuditLog;
  /** Compares the agents' table digests with the tables (`dvs audit`), every AUDIT_INTERVAL_MS. */
  readonly auditor: TableAuditor;
  private auditTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly options: ControllerOptions,
    private readonly trust: ApiTrust,
  ) {
    super();
    this.log = options.log ?? silentLogger;
    this.keys = new KeyLayout(options.prefix ?? DEFAULT_KEY_PREFIX);
    this.client = createEtcdClient(options.etcd);
    this.view = new ClusterView(this.keys);
    this.view.stalePolicy = options.stalePolicy ?? DEFAULT_STALE_POLICY;
    this.auditor = new TableAuditor(this.view, options.auditSettleMs);
    this.watch = new KeyspaceFollower(this.client, { prefix: this.keys.prefix }, this.view);
    this.leadership = new Leadership(
      this.client,
      this.keys,
      { id: options.id, ttlSeconds: options.electionTtlSeconds ?? 10 },
      this.log,
    );
    this.reconciler = new Reconciler(this.client, this.keys, this.view, this.leadership, this.metrics, this.log, {
      dampening: options.dampening ?? DEFAULT_DAMPENING,
      etcdUp: () => this.watch.live,
    });
    this.audit = new AuditLog(
      this.client,
      this.keys,
      options.id,
      this.log,
      options.auditCapacity ?? DEFAULT_AUDIT_CAPACITY,
    );
    this.metrics.audit = this.audit.counters;
    this.server = createApiServer({
      client: this.client,
      keys: this.keys,
      view: this.view,
      metrics: this.metrics,
      log: this.log,
      trust,
      audit: this.audit,
      auditor: this.auditor,
      state: {
        id: options.id,
        isLeader: () => this.leadership.isLeader,
        etcdUp: () => this.watch.live,
        ignoredRecords: () => this.ignoredRecords(),
      },
    });
    this.metrics.ignored = this.reconciler.ignored;

    // Tunnel status (every agent, every few seconds) and election keys do not change the tables,
    // except that probes seeing a stale host down end its stale memory.
    this.view.on('view:changed', (kinds) => {
      for (const kind of kinds) {
        if ((kind !== 'status' || this.view.stale.size > 0) && !NO_TABLE_CHANGE.has(kind)) {
          this.reconciler.schedule();
          return;
        }
      }
    });
    // A layout-1 report changes no table, but the leader counts it and `dvs status` names its host.
    this.view.on('legacy:report', () => this.reconciler.schedule());
    const invalidLog = new InvalidRecordLog(this.log);
    this.view.on('records:invalid', (kind, fresh, total, example) => invalidLog.note(kind, fresh, total, example));
    this.view.on('host:stale', (host, reports, ports) =>
      this.log.warn('host lost its etcd lease: its entries are kept, stale', { host, reports, ports }),
    );
    this.view.on('host:stale-end', (host, why) => this.log.info('stale entries of a host dropped', { host, why }));
    this.watch.on('etcd:down', (err) => {
      this.log.warn('etcd unreachable; serving the last known state, retrying', { error: err.message });
      this.emit('etcd:down', err);
    });
    this.watch.on('etcd:up', (revision) => {
      this.log.info('etcd watch live', { revision });
      this.reconciler.schedule();
      this.emit('etcd:up');
    });
    this.watch.on('keyspace:resync', (reason) => this.log.info('resyncing the keyspace', { reason }));
    this.leadership.on('leader:elected', () => {
      this.reconciler.schedule();
      this.emit('leader:elected');
    });
    this.leadership.on('leader:lost', (reason) => {
      this.reconciler.resetMobility();
      this.emit('leader:lost', reason);
    });
  }

  static async start(options: ControllerOptions): Promise<Controller> {
    const trust = await resolveApiTrust(options.api, options.listen);
    const controller = new Controller(options, trust);
    try {
      await ensureKeyspaceLayout(controller.client, controller.keys, {
        writtenBy: `dvs-controller ${options.id}`,
        log: controller.log,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    } catch (err) {
      controller.client.close();
      throw err;
    }
    if (options.listen.startsWith('/')) await rm(options.listen, { force: true });
    await listenOn(controller.server, options.listen, options.signal);
    controller.watch.start();
    controller.leadership.start();
    controller.reconciler.start();
    controller.auditTimer = setInterval(() => controller.auditor.check(), AUDIT_INTERVAL_MS);
    controller.auditTimer.unref();
    options.signal?.addEventListener('abort', () => void controller.stop(), { once: true });
    controller.log.info('controller started', {
      id: options.id,
      listen: controller.address,
      prefix: controller.keys.prefix,
      api: trust.summary,
    });
    return controller;
  }

  get id(): string {
    return this.options.id;
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  get etcdUp(): boolean {
    return this.watch.live;
  }

  /** `http(s)://host:port` for TCP, the socket path for a unix socket. */
  get address(): string {
    const a = this.server.address();
    if (typeof a === 'string') return a;
    const info = a as AddressInfo;
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
    return `${this.trust.tls ? 'https' : 'http'}://${host}:${info.port}`;
  }

  /**
   * Agent records the tables leave out now: the leader's last round, or on a
   * standby the same checks run on its own view (without the leader's memory
   * of MACs whose entry just went).
   */
  ignoredRecords(): IgnoredRecord[] {
    if (this.leadership.isLeader) return this.reconciler.ignored.list();
    return admitAll(this.view, new Map()).ignored;
  }

  /** One leader round now (tests/benchmarks): resolves when its writes are done. */
  reconcileNow(): Promise<void> {
    return this.reconciler.runOnce();
  }

  /** Resigns leadership (a standby takes over at once), stops serving and closes etcd. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.auditTimer !== null) clearInterval(this.auditTimer);
    await this.reconciler.stop();
    await this.leadership.stop();
    await this.watch.stop();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.client.close();
    this.log.info('controller stopped', { id: this.options.id });
  }
}
