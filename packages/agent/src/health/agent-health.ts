/**
 * Tunnel health wired to a running agent in one object, so the agent needs
 * three lines: construct, start() after the data path starts, stop() before
 * it closes. It
 *   - probes through the data path's probe hook (dataPathProbeTransport),
 *   - derives the peers to probe from the data path's own tables every
 *     refresh (every VTEP of every network, its encap from the network),
 *     minus this host's own VTEP; external VTEPs (`isExternal`) are listed as
 *     unmonitored and never probed,
 *   - registers the `tunnels/show [peer-address]` admin command,
 *   - gives Prometheus lines (for the agent's extraMetrics) and the
 *     `status/<host>` record (for the etcd sync), and calls `onChange` on
 *     every state change so the record can be published at once.
 */
import type { TunnelStatusRecord } from '@dvs/wire';
import type { Encap } from '@dvs/wire';
import type { NetworkView, PeerView } from '../datapath/views.js';
import type { CountersSnapshot } from '../datapath/counters.js';
import { dataPathProbeTransport, type ProbeCapableDataPath } from './data-path-probe-transport.js';
import type { HealthClock } from './health-clock.js';
import type { HealthOptions } from './health-options.js';
import type { TunnelPeer } from './probe-transport.js';
import { tunnelMetricLines } from './tunnel-metrics.js';
import { TunnelMonitor } from './tunnel-monitor.js';
import type { TunnelStateChange } from './tunnel-session.js';
import { tunnelStatusRecord, type PeerCountersLookup } from './tunnel-status-record.js';
import { TUNNELS_SHOW_USAGE, tunnelsShow } from './tunnels-show.js';

/** The parts of the DataPath health reads (structural, so tests can fake it). */
export interface HealthDataPath extends ProbeCapableDataPath {
  networkViews(): NetworkView[];
  peerViews(): PeerView[];
  counters(): Pick<CountersSnapshot, 'peers'>;
}

/** The agent's admin registry, as health uses it. */
export interface HealthCommandRegistry {
  register(command: {
    name: string;
    usage: string;
    summary: string;
    minArgs: number;
    maxArgs: number;
    run(args: string[]): { text: string; data: unknown };
  }): void;
}

export interface AgentHealthOptions extends Partial<HealthOptions> {
  host: string;
  /** This host's VTEP address: never probed (flood lists include it). */
  selfAddress: string;
  dataPath: HealthDataPath;
  registry?: HealthCommandRegistry;
  /** VTEPs that are not dvs agents (external VTEPs of the networks). */
  isExternal?: (vtep: { address: string; port: number }) => boolean;
  /** Host id behind a VTEP, when the control plane knows it (hosts/ records). */
  hostOf?: (vtep: { address: string; port: number }) => string | undefined;
  /** Where the host behind a VTEP takes probes (ProbeTarget.probePort); undefined: not known. */
  probePortOf?: (vtep: { address: string; port: number }) => number | null | undefined;
  /** Called on every tunnel state change (publish status/<host> now). */
  onChange?: (change: TunnelStateChange) => void;
  /** How often peers are re-read from the data path, ms. Default: the probe interval. */
  refreshMs?: number;
  clock?: HealthClock;
  session?: number;
}

export class AgentHealth {
  readonly monitor: TunnelMonitor;
  private readonly options: AgentHealthOptions;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  private lastPeerKey = '';
  /** From the control plane (setExternalVteps / setPeerHosts), added to the options' functions. */
  private externalVteps = new Set<string>();
  private hostByVtep = new Map<string, string>();

  constructor(options: AgentHealthOptions) {
    this.options = options;
    const encapOf = (vni: number): Encap | undefined =>
      options.dataPath.networkViews().find((n) => n.vni === vni)?.encap;
    this.monitor = new TunnelMonitor({
      ...options,
      transport: dataPathProbeTransport(options.dataPath, encapOf, options.probePortOf),
    });
    if (options.onChange) this.monitor.on('tunnel:state', options.onChange);
    options.registry?.register({
      name: 'tunnels/show',
      usage: TUNNELS_SHOW_USAGE,
      summary: 'tunnel health per peer VTEP: state, RTT, loss, last change and why',
      minArgs: 0,
      maxArgs: 1,
      run: (args) => tunnelsShow(this.showSource(), args, this.counters),
    });
  }

  /** Peers to probe, from the data path's tables: one per VTEP, in the first VNI that lists it. */
  peersFromDataPath(): TunnelPeer[] {
    const networks = new Map(this.options.dataPath.networkViews().map((n) => [n.vni, n]));
    const out: TunnelPeer[] = [];
    for (const p of this.options.dataPath.peerViews()) {
      if (p.address === this.options.selfAddress) continue;
      const vni = p.vnis.find((v) => networks.has(v));
      if (vni === undefined) continue;
      const vtep = { address: p.address, port: p.port };
      const key = `${p.address}:${p.port}`;
      const host = this.hostByVtep.get(key) ?? this.options.hostOf?.(vtep);
      const external = this.externalVteps.has(key) || this.options.isExternal?.(vtep) === true;
      out.push({
        vtep,
        encap: (networks.get(vni) as NetworkView).encap,
        vni,
        ...(host !== undefined ? { host } : {}),
        ...(external ? { external: true } : {}),
      });
    }
    return out;
  }

  /**
   * The VTEPs that are not dvs agents, as the control plane knows them (every
   * network's externalVteps; flood-list members without a host). Replaces the
   * previous set and applies at once. Call it whenever the tables change.
   */
  setExternalVteps(vteps: Iterable<{ address: string; port: number }>): void {
    this.externalVteps = new Set([...vteps].map((v) => `${v.address}:${v.port}`));
    this.refreshPeers();
  }

  /** Host ids behind VTEPs (from the hosts/ records), shown with each tunnel. Replaces the previous map. */
  setPeerHosts(hosts: Iterable<{ host: string; vtep: { address: string; port: number } }>): void {
    this.hostByVtep = new Map([...hosts].map((h) => [`${h.vtep.address}:${h.vtep.port}`, h.host]));
    this.refreshPeers();
  }

  /** Re-reads the peers now (also done every refreshMs after start). */
  refreshPeers(): void {
    const peers = this.peersFromDataPath();
    const key = JSON.stringify(peers);
    if (key === this.lastPeerKey) return;
    this.lastPeerKey = key;
    this.monitor.setPeers(peers);
  }

  start(): void {
    this.refreshPeers();
    this.monitor.start();
    const every = this.options.refreshMs ?? this.monitor.options.intervalMs;
    this.refreshTimer = setInterval(() => this.refreshPeers(), every);
    this.refreshTimer.unref?.();
  }

  stop(): void {
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.monitor.stop();
  }

  /** Prometheus lines for the agent's /metrics (AgentOptions.extraMetrics). */
  metricLines(): string[] {
    const text = tunnelMetricLines(this.monitor.snapshots());
    return text === '' ? [] : text.trimEnd().split('\n');
  }

  /** The `status/<host>` record to publish (encodeTunnelStatus). */
  statusRecord(now = Date.now()): TunnelStatusRecord {
    return tunnelStatusRecord(this.options.host, this.monitor.snapshots(), now, this.counters);
  }

  private readonly counters: PeerCountersLookup = (vtep) => {
    const c = this.options.dataPath.counters().peers[`${vtep.address}:${vtep.port}`];
    return c ? { rxPackets: c.rxFrames, txPackets: c.txFrames, rxBytes: c.rxBytes, txBytes: c.txBytes } : undefined;
  };

  private showSource() {
    return {
      host: this.options.host,
      session: this.monitor.session,
      options: this.monitor.options,
      snapshots: () => this.monitor.snapshots(),
    };
  }
}
