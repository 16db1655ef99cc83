import type { PolicerSpec } from './datapath/token-bucket.js';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { loopSpinStats, nativeAvailable, setLoopSpin, type TunnelSocket } from '@dvs/netdev';
import type { AgentConfig, PortConfig } from './config/agent-config.js';
import { AdminServer } from './admin/admin-server.js';
import { registerAgentCommands, type AgentControl } from './admin/agent-commands.js';
import { registerMirrorCommands } from './admin/mirror-commands.js';
import { registerSocketCommands, type OpenTunnelSocket } from './admin/socket-commands.js';
import { CommandRegistry } from './admin/command-registry.js';
import { AgentError } from './agent-error.js';
import type { Encap } from '@dvs/wire';
import type { TableChange } from './datapath/control-surface.js';
import type { DataPathOptions } from './datapath/data-path.js';
import { Datapaths } from './dpif/datapaths.js';
import { FlowExport } from './flow-export/flow-export.js';
import { FlowExportSources } from './flow-export/flow-export-sources.js';
import { FlowExportError } from './flow-export/flow-export-config.js';
import { registerFlowCommands } from './flow-export/flow-commands.js';
import { flowExportMetricLines } from './flow-export/flow-export-metrics.js';
import { vxlanOwner, type KernelAvailability, type VxlanOwner } from './dpif/datapath-choice.js';
import { KernelProbes } from './dpif/kernel/kernel-probes.js';
import { KernelProvider, type KernelIo } from './dpif/kernel/kernel-provider.js';
import { removeKernelDevices } from './dpif/kernel/kernel-devices.js';
import { NftPortSecurity } from './dpif/kernel/kernel-port-security.js';
import { UserspaceProvider } from './dpif/userspace-provider.js';
import type { CountersSnapshot } from './datapath/counters.js';
import { AgentPorts } from './ports/agent-ports.js';
import type { AgentPortView, PortRequest } from './ports/managed-port.js';
import { linuxDevices, type AgentDevices } from './agent-devices.js';
import { silentLogger, type Logger } from './observe/logger.js';
import { MetricsServer } from './observe/metrics-server.js';
import { renderMetrics, suppressionMetricLines } from './observe/metrics.js';
import { portMetricLines } from './ports/port-metrics.js';
import { AgentHealth } from './health/agent-health.js';

export { AgentError };

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
  dataPath?: Omit<DataPathOptions, 'agingMs' | 'fdbLimit' | 'trustControlPlane' | 'confirmMs' | 'localHoldMs'>;
  /** Serve the admin socket (default true). */
  adminSocket?: boolean;
  /** Extra Prometheus lines (health, etcd sync) appended to /metrics. */
  extraMetrics?: () => string[];
}

export interface AgentStartOptions {
  /** Aborting stops the agent (as stop()). Already aborted: start() rejects. */
  signal?: AbortSignal;
}

/** Peer facts from the control plane (etcd: networks' external VTEPs, hosts/ records). */
export interface PeerInfo {
  isExternal(vtep: { address: string; port: number }): boolean;
  hostOf(vtep: { address: string; port: number }): string | undefined;
  /** The probe port the host behind a VTEP advertises (null: none, it takes probes on its VTEP port; undefined: unknown). */
  probePortOf?(vtep: { address: string; port: number }): number | null | undefined;
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
 * closed again and the error is rethrown (the ports of the state file are
 * the exception: one that cannot be restored is logged and dropped). stop()
 * stops reading first, then closes the admin socket and metrics, the ports'
 * devices (created TAPs disappear unless persistent; adopted TAPs and
 * attached devices stay), and the sockets.
 */
export class Agent extends EventEmitter<AgentEvents> implements AgentControl {
  readonly registry = new CommandRegistry();
  /** Both datapath providers behind one surface, routed by VNI (dpif/datapaths.ts). */
  readonly dataPath: Datapaths;
  readonly config: AgentConfig;
  readonly version = AGENT_VERSION;
  private readonly devices: AgentDevices;
  private readonly logger: Logger;
  private readonly ports: AgentPorts;
  private readonly sockets: OpenTunnelSocket[] = [];
  private admin: AdminServer | null = null;
  private metrics: MetricsServer | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly options: AgentOptions;
  private metricsAddress: string | null = null;
  private readonly metricSources: (() => string[])[] = [];
  private readonly userspace: UserspaceProvider;
  private readonly kernel: KernelProvider | null;
  /** Why the configured datapath cannot run here (start() fails with it), or null. */
  private readonly datapathProblem: string | null;
  /** The provider that owns this host's VXLAN port, and why (decided at construction). */
  readonly vxlanOwner: VxlanOwner;

  /** What the control plane knows about peers (external VTEPs, host ids); null: static config only. */
  private peerInfo: PeerInfo | null = null;
  /** sFlow and IPFIX export and the flow cache (userspace data path only). */
  readonly flowExport: FlowExport;
  /** Which flow export settings are in force: this host's own over the cluster's (flow-export-sources.ts). */
  readonly flowExportSources: FlowExportSources;
  /** Tunnel health (probes to every peer VTEP), unless `health.enabled: false`. */
  readonly health: AgentHealth | null;

  constructor(options: AgentOptions) {
    super();
    this.options = options;
    this.config = options.config;
    this.logger = options.logger ?? silentLogger;
    this.devices = options.devices ?? linuxDevices(this.logger);
    this.userspace = new UserspaceProvider({
      ...options.dataPath,
      agingMs: this.config.fdb.agingSeconds * 1000,
      fdbLimit: this.config.fdb.maxEntriesPerVni,
      // With etcd, MAC locations follow the controller; with static peers only, learning decides.
      trustControlPlane: this.config.etcd !== null,
      confirmMs: this.config.fdb.confirmMoveMs,
      localHoldMs: this.config.fdb.localHoldMs,
    });
    const { kernel, availability } = this.openKernel();
    const owner = vxlanOwner(this.config.datapath, availability, this.config.networks);
    this.datapathProblem = 'problem' in owner ? owner.problem : null;
    const vxlan: VxlanOwner = 'problem' in owner ? { provider: 'userspace', reason: owner.problem } : owner;
    this.kernel = vxlan.provider === 'kernel' ? kernel : null;
    if (this.kernel === null) kernel?.close();
    this.vxlanOwner = vxlan;
    this.dataPath = new Datapaths({
      userspace: this.userspace,
      kernel: this.kernel,
      vxlanOwner: vxlan,
      // A provider named for the network in this agent's config wins; auto (the default) leaves it to the record.
      networkChoice: (vni) => {
        const choice = this.config.networks.find((n) => n.vni === vni)?.datapath;
        return choice === 'auto' ? undefined : choice;
      },
    });
    this.ports = new AgentPorts({
      host: this.config.host,
      vtepAddress: this.config.vtep.address,
      dataPath: this.dataPath,
      devices: this.devices,
      logger: this.logger,
      stateFile: this.config.stateFile,
      tapOffloads: this.config.offloads,
      staticEntries: (port) =>
        this.config.networks.flatMap((n) =>
          n.fdb.filter((e) => e.port === port).map((e) => ({ vni: n.vni, mac: e.mac })),
        ),
      // Only at run time with etcd: the network may still be on its way.
      networkWaitMs: () => (this.config.etcd !== null && this.state === 'running' ? NETWORK_WAIT_MS : 0),
      changed: () => this.emit('ports:changed'),
    });
    registerAgentCommands(this.registry, this);
    registerMirrorCommands(this.registry, this.dataPath);
    registerSocketCommands(this.registry, () => this.sockets);
    this.flowExport = new FlowExport({
      dataPath: this.userspace.dataPath,
      agentAddress: this.config.vtep.address,
      // A port whose networks all keep sFlow off sends no counter samples either.
      portCounters: () =>
        Object.fromEntries(
          Object.entries(this.counters().ports).filter(([name]) => this.userspace.dataPath.sflowCountsPort(name)),
        ),
      encapOf: (vni) => this.config.networks.find((n) => n.vni === vni)?.encap,
    });
    this.flowExportSources = new FlowExportSources(this.flowExport, (message, fields) =>
      this.logger.warn(message, fields),
    );
    registerFlowCommands(this.registry, this.flowExportSources);
    this.metricSources.push(() => flowExportMetricLines(this.config.host, this.flowExport));
    this.metricSources.push(() => suppressionMetricLines(this.config.host, this.dataPath.networkViews()));
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
          probePortOf: (v) => this.peerInfo?.probePortOf?.(v),
        })
      : null;
  }

  /** More Prometheus lines for /metrics (the etcd side's report throttle). */
  addMetricSource(source: () => string[]): void {
    this.metricSources.push(source);
  }

  /** Which provider owns this host's VXLAN port. */
  get vxlanOwnerProvider(): 'kernel' | 'userspace' {
    return this.vxlanOwner.provider;
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
    if (this.datapathProblem !== null)
      throw new AgentError('DVS_DATAPATH_UNAVAILABLE', `${this.datapathProblem}; set datapath: userspace or auto`);
    this.state = 'starting';
    try {
      if (this.vxlanOwner.provider === 'userspace') this.removeKernelLeftovers();
      await this.openSockets();
      const { rejected } = this.dataPath.apply(staticChanges(this.config));
      if (rejected.length > 0) {
        const r = rejected[0]!;
        throw new AgentError(
          'DVS_CONFIG_INVALID',
          `the data path refused the configured tables: ${r.kind}: ${r.reason}`,
        );
      }
      if (this.config.mirrors.mirrors.length + this.config.mirrors.sinks.length > 0)
        this.dataPath.setMirrors(this.config.mirrors);
      // Without etcd the config's tables are all there is: what a kernel datapath holds beyond them is stale.
      if (this.config.etcd === null) this.dataPath.tablesLoaded();
      this.ports.watch();
      for (const p of this.config.ports) await this.ports.addConfigPort(portRequest(p));
      await this.ports.restoreState();
      this.dataPath.start();
      // Spins only after the agent itself received frames: a kernel datapath never makes it spin.
      if (this.config.busyPollUs > 0 && nativeAvailable()) {
        setLoopSpin(this.config.busyPollUs);
        this.logger.info('busy polling', { busyPollUs: this.config.busyPollUs });
      }
      await this.startFlowExport(options.signal);
      this.health?.start();
      if (this.options.adminSocket !== false) {
        this.admin = new AdminServer(this.registry, this.config.adminSocket);
        await this.admin.listen();
      }
      if (this.config.metrics !== null) {
        this.metrics = new MetricsServer(() =>
          renderMetrics(this.host, this.counters(), [
            ...portMetricLines(this.host, this.ports.views(), this.ports.stateFileErrors),
            ...(this.health?.metricLines() ?? []),
            ...(this.options.extraMetrics?.() ?? []),
            ...this.metricSources.flatMap((source) => source()),
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
      ports: this.ports.openCount,
      stateFile: this.config.stateFile,
      adminSocket: this.admin?.path ?? null,
      metrics: this.metricsAddress,
    });
  }

  /**
   * `flowExport:` of the config, this host's own settings (over the cluster's):
   * collectors resolved now; one that does not resolve stops the start.
   */
  private async startFlowExport(signal?: AbortSignal): Promise<void> {
    const { sflow, ipfix } = this.config.flowExport;
    try {
      if (sflow !== null) await this.flowExportSources.setHostSflow(sflow, signal);
      if (ipfix !== null) await this.flowExportSources.setHostIpfix(ipfix, signal);
    } catch (err) {
      if (!(err instanceof FlowExportError)) throw err;
      throw new AgentError(err.code, `flowExport: ${err.message}`, { cause: err });
    }
  }

  /** Ends the loop spin and says what it did (the e2e suite reads it). */
  private stopBusyPolling(): void {
    const stats = loopSpinStats();
    setLoopSpin(0);
    this.logger.info('busy polling stopped', {
      spins: stats.spins,
      endedByReadiness: stats.spinsEndedByReadiness,
      spunMs: Math.round(stats.spunMicroseconds / 1000),
    });
  }

  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.health?.stop();
    this.flowExport.close();
    if (this.config.busyPollUs > 0 && nativeAvailable()) this.stopBusyPolling();
    this.dataPath.stop();
    await this.admin?.close();
    this.admin = null;
    await this.metrics?.close();
    this.metrics = null;
    this.ports.close();
    for (const s of this.sockets.splice(0)) close(s.socket);
    // The kernel's devices and tables stay: it keeps forwarding while the agent is away.
    this.kernel?.close();
    this.state = 'stopped';
    this.logger.info('agent stopped', { host: this.host });
  }

  /** ports/add: opens the device by its plug and plugs the port in; rejects with a coded error, changing nothing. */
  async addPort(request: PortRequest): Promise<AgentPortView> {
    return this.ports.add(request);
  }

  /** ports/del: unplugs the port and closes its device (a created TAP is deleted, other devices stay). */
  async removePort(name: string): Promise<void> {
    await this.ports.remove(name);
  }

  hasPort(name: string): boolean {
    return this.ports.has(name);
  }

  /** Every port, its device there or gone: kind, device kind, state and since when, counters. */
  portViews(): AgentPortView[] {
    return this.ports.views();
  }

  /** A port's policer for one direction (ports/qos); kept for later attaches of its device. */
  setPortQos(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    this.ports.setQos(name, direction, spec);
  }

  /** The data path's counters, plus the kept counters of ports whose device is gone. */
  counters(): CountersSnapshot {
    const snapshot = this.dataPath.counters();
    return { ...snapshot, ports: { ...snapshot.ports, ...this.ports.idleCounters() } };
  }

  /** A network's overlay MTU may have changed (etcd): checks the ports' device MTUs against it again. */
  networksChanged(): void {
    this.ports.recheckMtus();
  }

  /** The kernel provider when the config asks for it (or auto) and this host can run it; else why not. */
  private openKernel(): { kernel: KernelProvider | null; availability: KernelAvailability } {
    if (this.config.datapath === 'userspace')
      return { kernel: null, availability: { available: false, reason: 'not asked for' } };
    if (this.devices.openKernelIo === undefined)
      return { kernel: null, availability: { available: false, reason: 'these devices have no kernel datapath' } };
    try {
      const io = this.devices.openKernelIo();
      const kernel = new KernelProvider({
        io,
        host: this.config.host,
        vtep: { address: this.config.vtep.address, port: this.config.vtep.vxlanPort },
        agingSeconds: this.config.fdb.agingSeconds,
        logger: this.logger,
      });
      return { kernel, availability: { available: true } };
    } catch (err) {
      return { kernel: null, availability: { available: false, reason: (err as Error).message } };
    }
  }

  /** A host that ran the kernel provider before: its marked devices would hold the VXLAN port. */
  private removeKernelLeftovers(): void {
    if (this.devices.openKernelIo === undefined) return;
    let io: KernelIo;
    try {
      io = this.devices.openKernelIo();
    } catch {
      return; // No rtnetlink here: no kernel devices either.
    }
    try {
      const removed = removeKernelDevices(io.rtnl);
      // Its port security table too (deleting a table that is not there is no error).
      if (io.nft !== undefined)
        try {
          new NftPortSecurity(io.nft).remove();
        } catch {
          // No nft on this host: no table of ours either.
        }
      if (removed.length > 0)
        this.logger.info('removed the kernel datapath devices of an earlier run: this host now forwards in userspace', {
          devices: removed.join(','),
        });
    } finally {
      io.snooper?.close();
      io.monitor.close();
      io.rtnl.close();
    }
  }

  private async openSockets(): Promise<void> {
    const { address, vxlanPort, grePort, probePort } = this.config.vtep;
    // One UDP port, one owner: the kernel's vxlan devices hold the VXLAN port when the kernel serves VXLAN.
    const sockets: [Encap | 'probe', number][] =
      this.kernel === null
        ? [
            ['vxlan', vxlanPort],
            ['gre-udp', grePort],
          ]
        : [
            ['gre-udp', grePort],
            ['probe', probePort],
          ];
    for (const [encap, port] of sockets) {
      let socket: TunnelSocket;
      try {
        socket = await this.devices.openTunnelSocket({
          address,
          port,
          recvBufferSize: 4 << 20,
          sendBufferSize: 4 << 20,
          ...(encap !== 'probe' && this.config.vtep.sourcePorts !== null
            ? { sourcePorts: this.config.vtep.sourcePorts }
            : {}),
          // UDP_GRO with the offloads: the data path splits super-datagrams in place (super-datagram-receive.ts).
          ...(encap !== 'probe' && this.config.offloads ? { receiveOffload: true } : {}),
        });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'DVS_IO';
        throw new AgentError(code, `cannot open the ${encap} socket on ${address}:${port}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.sockets.push({ encap, socket });
      if (encap === 'probe') this.kernel?.attachProbes(new KernelProbes(socket, port));
      else this.userspace.dataPath.attachSocket(encap, socket);
    }
  }
}

/** A config port as a port request. */
function portRequest(p: PortConfig): PortRequest {
  return {
    name: p.name,
    mapping: p.mode === 'access' ? { mode: 'access', vni: p.vni } : { mode: 'trunk', vlans: p.vlans },
    plug: p.plug,
    persistent: p.persistent,
    ...(p.security !== undefined ? { security: p.security } : {}),
    qos: p.qos,
  };
}

/** The static tables of the config as control-surface changes. */
export function staticChanges(config: AgentConfig): TableChange[] {
  const changes: TableChange[] = [];
  for (const n of config.networks) {
    changes.push({
      kind: 'network:set',
      network: {
        vni: n.vni,
        encap: n.encap,
        mtu: n.mtu,
        arpSuppression: n.arpSuppression,
        datapath: n.datapath,
        flowExport: n.flowExport,
      },
    });
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
