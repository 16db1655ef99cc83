import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { FrameDevice, TunnelSocket } from '@dvs/netdev';
import type { AgentConfig, PortAttach } from './config/agent-config.js';
import type { PortMapping } from './config/port-mapping-text.js';
import { AdminServer } from './admin/admin-server.js';
import { registerAgentCommands, type AgentControl } from './admin/agent-commands.js';
import { AdminCommandError, CommandRegistry } from './admin/command-registry.js';
import { DEFAULT_OVERLAY_MTU, type Encap } from '@dvs/wire';
import type { TableChange } from './datapath/control-surface.js';
import { DataPath, type DataPathOptions } from './datapath/data-path.js';
import type { PortSpec } from './datapath/port.js';
import type { PortView } from './datapath/views.js';
import { linuxDevices, type AgentDevices } from './agent-devices.js';
import { silentLogger, type Logger } from './observe/logger.js';
import { MetricsServer } from './observe/metrics-server.js';
import { renderMetrics } from './observe/metrics.js';
import { AgentHealth } from './health/agent-health.js';

export const AGENT_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;

/** How long ports/add waits for its network to arrive from etcd. */
const NETWORK_WAIT_MS = 3000;

export interface AgentOptions {
  config: AgentConfig;
  /** Default: real TAPs and sockets (linuxDevices(logger)). */
  devices?: AgentDevices;
  logger?: Logger;
  /** Passed to the DataPath (clock, batch sizes); aging and FDB limit come from the config. */
  dataPath?: Omit<DataPathOptions, 'agingMs' | 'fdbLimit'>;
  /** Serve the admin socket (default true). */
  adminSocket?: boolean;
  /** Extra Prometheus lines (health, etcd sync) appended to /metrics. */
  extraMetrics?: () => string[];
}

export interface AgentStartOptions {
  /** Aborting stops the agent (as stop()). Already aborted: start() rejects. */
  signal?: AbortSignal;
}

/** An error of the agent's life cycle (start/ports); `code` is stable. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface OpenPort {
  device: FrameDevice;
  created: boolean;
}

/** Peer facts from the control plane (etcd: networks' external VTEPs, hosts/ records). */
export interface PeerInfo {
  isExternal(vtep: { address: string; port: number }): boolean;
  hostOf(vtep: { address: string; port: number }): string | undefined;
}

/** Agent events, `noun:verb`: the etcd sync republishes ports on `ports:changed`. */
export interface AgentEvents {
  'ports:changed': [];
}

/**
 * One dvs agent: the data path with its sockets and ports, the static tables
 * from the config, the admin socket and the metrics endpoint.
 *
 * start() opens everything or nothing: on any failure what was opened is
 * closed again and the error is rethrown. stop() stops reading first, then
 * closes the admin socket and metrics, the TAPs it created (they disappear;
 * adopted ones stay), and the sockets.
 */
export class Agent extends EventEmitter<AgentEvents> implements AgentControl {
  readonly registry = new CommandRegistry();
  readonly dataPath: DataPath;
  readonly config: AgentConfig;
  readonly version = AGENT_VERSION;
  private readonly devices: AgentDevices;
  private readonly logger: Logger;
  private readonly openPorts = new Map<string, OpenPort>();
  private readonly sockets: TunnelSocket[] = [];
  private admin: AdminServer | null = null;
  private metrics: MetricsServer | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly options: AgentOptions;
  private metricsAddress: string | null = null;

  /** What the control plane knows about peers (external VTEPs, host ids); null: static config only. */
  private peerInfo: PeerInfo | null = null;
  /** Tunnel health (probes to every peer VTEP), unless `health.enabled: false`. */
  readonly health: AgentHealth | null;

  constructor(options: AgentOptions) {
    super();
    this.options = options;
    this.config = options.config;
    this.logger = options.logger ?? silentLogger;
    this.devices = options.devices ?? linuxDevices(this.logger);
    this.dataPath = new DataPath({
      ...options.dataPath,
      agingMs: this.config.fdb.agingSeconds * 1000,
      fdbLimit: this.config.fdb.maxEntriesPerVni,
    });
    registerAgentCommands(this.registry, this);
    const external = new Set(this.config.networks.flatMap((n) => n.externalVteps.map((v) => `${v.address}:${v.port}`)));
    this.health = this.config.health.enabled
      ? new AgentHealth({
          ...this.config.health.options,
          host: this.config.host,
          selfAddress: this.config.vtep.address,
          dataPath: this.dataPath,
          registry: this.registry,
          isExternal: (v) => external.has(`${v.address}:${v.port}`) || this.peerInfo?.isExternal(v) === true,
          hostOf: (v) => this.peerInfo?.hostOf(v),
        })
      : null;
  }

  /** The control plane tells tunnel health which VTEPs are external and which host is behind a VTEP. */
  setPeerInfo(info: PeerInfo | null): void {
    this.peerInfo = info;
  }

  get host(): string {
    return this.config.host;
  }

  /** `host:port` the metrics endpoint listens on (after start), or null. */
  get metricsListening(): string | null {
    return this.metricsAddress;
  }

  async start(options: AgentStartOptions = {}): Promise<void> {
    if (this.state !== 'new') throw new AgentError('DVS_AGENT_STATE', `cannot start an agent that is ${this.state}`);
    options.signal?.throwIfAborted();
    this.state = 'starting';
    try {
      await this.openSockets();
      const { rejected } = this.dataPath.apply(staticChanges(this.config));
      if (rejected.length > 0) {
        const r = rejected[0]!;
        throw new AgentError(
          'DVS_CONFIG_INVALID',
          `the data path refused the configured tables: ${r.kind}: ${r.reason}`,
        );
      }
      for (const p of this.config.ports) {
        const mapping: PortMapping =
          p.mode === 'access' ? { mode: 'access', vni: p.vni } : { mode: 'trunk', vlans: p.vlans };
        await this.addPort(p.name, mapping, p.attach);
      }
      for (const n of this.config.networks) {
        for (const e of n.fdb) if (e.port !== undefined) this.dataPath.addStaticLocal(n.vni, e.mac, e.port);
      }
      this.dataPath.start();
      this.health?.start();
      if (this.options.adminSocket !== false) {
        this.admin = new AdminServer(this.registry, this.config.adminSocket);
        await this.admin.listen();
      }
      if (this.config.metrics !== null) {
        this.metrics = new MetricsServer(() =>
          renderMetrics(this.host, this.dataPath.counters(), [
            ...(this.health?.metricLines() ?? []),
            ...(this.options.extraMetrics?.() ?? []),
          ]),
        );
        const addr = await this.metrics.listen(this.config.metrics.host, this.config.metrics.port);
        this.metricsAddress = `${addr.address}:${addr.port}`;
      }
      options.signal?.throwIfAborted();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.state = 'running';
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.logger.info('agent started', {
      host: this.host,
      vtep: this.config.vtep.address,
      networks: this.config.networks.length,
      ports: this.openPorts.size,
      adminSocket: this.admin?.path ?? null,
      metrics: this.metricsAddress,
    });
  }

  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.health?.stop();
    this.dataPath.stop();
    await this.admin?.close();
    this.admin = null;
    await this.metrics?.close();
    this.metrics = null;
    for (const [name, open] of this.openPorts) {
      close(open.device);
      this.logger.info(open.created ? 'port closed, TAP deleted' : 'port closed, adopted TAP left in place', {
        port: name,
      });
    }
    this.openPorts.clear();
    for (const s of this.sockets.splice(0)) close(s);
    this.state = 'stopped';
    this.logger.info('agent stopped', { host: this.host });
  }

  async addPort(name: string, mapping: PortMapping, attach: PortAttach): Promise<PortView> {
    if (this.dataPath.hasPort(name)) throw new AdminCommandError('DVS_CONFLICT', `port ${name} already exists`);
    const exists = await this.devices.interfaceExists(name);
    if (attach === 'create' && exists) {
      throw new AdminCommandError(
        'DVS_CONFLICT',
        `a device named ${name} already exists: adopt it (attach: adopt) or pick another name`,
      );
    }
    if (attach === 'adopt' && !exists) {
      throw new AdminCommandError(
        'DVS_NOT_FOUND',
        `no TAP named ${name} to adopt: create it first (ip tuntap add ${name} mode tap) or use create`,
      );
    }
    const mtu = await this.portMtu(name, mapping);
    let device: FrameDevice & { readonly existed?: boolean };
    try {
      device = await this.devices.openTap({ name, mtu: attach === 'create' ? mtu : undefined, up: true });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'DVS_IO';
      throw new AgentError(code, `cannot open TAP ${name}: ${(err as Error).message}`, { cause: err });
    }
    const spec: PortSpec =
      mapping.mode === 'access'
        ? { name, mode: 'access', vni: mapping.vni }
        : { name, mode: 'trunk', vlans: mapping.vlans };
    try {
      this.dataPath.addPort(spec, device);
    } catch (err) {
      close(device);
      throw err;
    }
    const created = device.existed === undefined ? attach === 'create' : !device.existed;
    this.openPorts.set(name, { device, created });
    if (attach === 'adopt' && device.mtu > mtu) {
      this.logger.warn('adopted TAP MTU is larger than the overlay MTU: frames above it will be dropped (mtu)', {
        port: name,
        tapMtu: device.mtu,
        overlayMtu: mtu,
      });
    }
    this.emit('ports:changed');
    this.logger.info('port added', {
      port: name,
      mapping: mapping.mode === 'access' ? String(mapping.vni) : 'trunk',
      attach,
      mtu: device.mtu,
    });
    return this.dataPath.portViews().find((p) => p.name === name) as PortView;
  }

  async removePort(name: string): Promise<void> {
    const device = this.dataPath.removePort(name);
    const open = this.openPorts.get(name);
    this.openPorts.delete(name);
    close(device);
    this.emit('ports:changed');
    this.logger.info(
      open?.created === false ? 'port removed, adopted TAP left in place' : 'port removed, TAP deleted',
      { port: name },
    );
  }

  /**
   * The MTU a port's TAP gets. With etcd the network may not be synced yet
   * when a port is added right after start: wait for it a little (the TAP's
   * MTU cannot follow later once a VM holds it). Unknown after that: the
   * default overlay MTU (1450), with a warning.
   */
  private async portMtu(name: string, mapping: PortMapping): Promise<number> {
    let mtu = this.overlayMtu(mapping);
    const deadline = Date.now() + NETWORK_WAIT_MS;
    // Only at run time: during start() the etcd sync is not running yet.
    while (mtu === undefined && this.config.etcd !== null && this.state === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      mtu = this.overlayMtu(mapping);
    }
    if (mtu !== undefined) return mtu;
    this.logger.warn('no network known for the port yet: using the default overlay MTU', {
      port: name,
      mtu: DEFAULT_OVERLAY_MTU,
    });
    return DEFAULT_OVERLAY_MTU;
  }

  /** The smallest overlay MTU among the port's VNIs that have a network (undefined: none known yet). */
  private overlayMtu(mapping: PortMapping): number | undefined {
    const vnis = mapping.mode === 'access' ? [mapping.vni] : [...mapping.vlans.values()];
    const mtus = this.dataPath
      .networkViews()
      .filter((n) => vnis.includes(n.vni))
      .map((n) => n.mtu);
    return mtus.length === 0 ? undefined : Math.min(...mtus);
  }

  private async openSockets(): Promise<void> {
    const { address, vxlanPort, grePort } = this.config.vtep;
    for (const [encap, port] of [
      ['vxlan', vxlanPort],
      ['gre-udp', grePort],
    ] as [Encap, number][]) {
      let socket: TunnelSocket;
      try {
        socket = await this.devices.openTunnelSocket({
          address,
          port,
          recvBufferSize: 4 << 20,
          sendBufferSize: 4 << 20,
        });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'DVS_IO';
        throw new AgentError(code, `cannot open the ${encap} socket on ${address}:${port}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.sockets.push(socket);
      this.dataPath.attachSocket(encap, socket);
    }
  }
}

/** The static tables of the config as control-surface changes. */
export function staticChanges(config: AgentConfig): TableChange[] {
  const changes: TableChange[] = [];
  for (const n of config.networks) {
    changes.push({ kind: 'network:set', network: { vni: n.vni, encap: n.encap, mtu: n.mtu } });
    changes.push({ kind: 'peers:set', vni: n.vni, vteps: [...n.peers, ...n.externalVteps] });
    changes.push({ kind: 'flood:set', vni: n.vni, vteps: n.floodList });
    for (const e of n.fdb) {
      if (e.vtep !== undefined)
        changes.push({ kind: 'fdb:set', vni: n.vni, mac: e.mac, vtep: e.vtep, seq: 0, static: true });
    }
  }
  return changes;
}

function close(device: { close(): void }): void {
  try {
    device.close();
  } catch {
    // Closing twice or a vanished device: nothing left to release.
  }
}
