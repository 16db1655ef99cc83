/**
 * The agent's configuration, as validated from YAML and flags. Every field is
 * documented with its default in docs/agent.md and deploy/examples/agent.yaml.
 */
import type { MirrorConfig } from '../datapath/mirror.js';
import type { SourcePortPoolOptions } from '@dvs/netdev';
import type { FlowExportConfig } from '../flow-export/flow-export-config.js';
import type { PortQos } from '../datapath/token-bucket.js';
import { DEFAULT_ENCAP_PORTS, type Encap, type NetworkFlowExport, type PortPlug } from '@dvs/wire';
import type { Vtep } from '../datapath/control-surface.js';
import type { HealthOptions } from '../health/health-options.js';
import type { PortSecurity } from '../datapath/port-security.js';
import type { DatapathChoice } from '../dpif/provider.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'logfmt';

export interface StaticFdbConfig {
  mac: number;
  /** Remote location … */
  vtep?: Vtep;
  /** … or a local port. */
  port?: string;
}

export interface NetworkConfig {
  vni: number;
  name: string;
  encap: Encap;
  /** Overlay MTU (largest IP packet inside): underlay MTU − 50 for VXLAN/IPv4. */
  mtu: number;
  /** VTEPs of the VNI (accepted as outer sources). */
  peers: Vtep[];
  /** VTEPs that take BUM copies; defaults to `peers` + `externalVteps`. */
  floodList: Vtep[];
  /** VTEPs that are not dvs agents (a kernel vxlan device, a switch): peers that are never probed. */
  externalVteps: Vtep[];
  fdb: StaticFdbConfig[];
  /** The provider this network asks for (default auto: the host's VXLAN provider; userspace for GRE-in-UDP). */
  datapath: DatapathChoice;
  /** ARP and ND suppression (arp-responder.ts); default false. */
  arpSuppression: boolean;
  /** Whether sFlow and IPFIX export its traffic (default both; the network record's flowExport). */
  flowExport: NetworkFlowExport;
}

/**
 * One port: its device name, its VNI mapping, how it gets its device
 * (`plug`: create, adopt or attach — @dvs/wire PORT_PLUGS) and, for a TAP the
 * agent creates, whether the TAP outlives the agent (`persistent`).
 */
export type PortConfig = (
  { name: string; mode: 'access'; vni: number } | { name: string; mode: 'trunk'; vlans: Map<number, number> }
) & { plug: PortPlug; persistent: boolean; security?: PortSecurity; qos: PortQos };

export interface EtcdConfig {
  endpoints: string[];
  prefix: string;
  /** Everything else under `etcd:` (TLS, credentials, lease TTL), passed through to the etcd sync. */
  options: Record<string, unknown>;
}

export interface HealthConfig {
  /** Probe peer VTEPs (default true). */
  enabled: boolean;
  /** Settings passed to the tunnel monitor (see health/health-options.ts); unset fields take its defaults. */
  options: Partial<HealthOptions>;
}

export interface AgentConfig {
  host: string;
  /** `key: value` labels published in this host's record (networks may admit hosts by label). */
  labels: Record<string, string>;
  /**
   * probePort: the kernel datapath's tunnel probes (its vxlan devices own vxlanPort).
   * sourcePorts: the userspace tunnels' per-flow source ports (config/source-ports-config.ts); null: off.
   */
  vtep: {
    address: string;
    vxlanPort: number;
    grePort: number;
    probePort: number;
    sourcePorts: SourcePortPoolOptions | null;
  };
  adminSocket: string;
  /** `host:port` of the Prometheus endpoint, or null (off). */
  metrics: { host: string; port: number } | null;
  logLevel: LogLevel;
  logFormat: LogFormat;
  fdb: {
    agingSeconds: number;
    maxEntriesPerVni: number;
    /** How long a tunnel-learned move against the controller's entry waits for its confirmation. */
    confirmMoveMs: number;
    /** A local port that saw a MAC this recently keeps it against tunnel claims. */
    localHoldMs: number;
    /** MAC reports to etcd: at most this many per second, in bursts of reportBurst (report-throttle.ts). */
    reportsPerSecond: number;
    reportBurst: number;
  };
  networks: NetworkConfig[];
  ports: PortConfig[];
  /**
   * Where the ports added at run time are kept across restarts and crashes
   * (ports/state-file.ts); null: not kept.
   */
  stateFile: string | null;
  etcd: EtcdConfig | null;
  health: HealthConfig;
  /**
   * Who forwards: `userspace` (default; the agent's own pipeline), `kernel`
   * (Linux's bridge and vxlan devices, programmed by the agent) or `auto`
   * (the kernel when it can carry the VXLAN networks). See dpif/datapath-choice.ts.
   */
  datapath: DatapathChoice;
  /** Port mirrors of a static setup (config/mirror-config.ts); with etcd, the controller's replace them. */
  mirrors: MirrorConfig;
  /**
   * TAP offloads (`offloads: on|off`, default on): TAP ports opened with
   * virtio-net headers and TSO, super-frames segmented by the data path
   * (datapath/segmenting-port-device.ts).
   */
  offloads: boolean;
  /**
   * Busy polling (`busyPollUs`, default 0: off): after frames arrive, the
   * agent's loop spins up to this many microseconds before it sleeps, so the
   * next frame is taken without a wake-up (@dvs/netdev loop-spin.ts).
   * Lower latency for CPU; docs/performance.md has the measured trade.
   */
  busyPollUs: number;
  /** sFlow and IPFIX turned on at start (flow-export/flow-export-config.ts); both null: off. */
  flowExport: FlowExportConfig;
}

export const CONFIG_DEFAULTS = {
  adminSocket: '/run/dvs/agent.sock',
  stateFile: '/var/lib/dvs/agent-state.json',
  logLevel: 'info' as LogLevel,
  logFormat: 'json' as LogFormat,
  agingSeconds: 300,
  maxEntriesPerVni: 8192,
  confirmMoveMs: 1000,
  localHoldMs: 2000,
  reportsPerSecond: 200,
  reportBurst: 400,
  vxlanPort: DEFAULT_ENCAP_PORTS.vxlan,
  grePort: DEFAULT_ENCAP_PORTS['gre-udp'],
  /** Tunnel probes of the kernel datapath (next to VXLAN's 4789; not an IANA port of anything we meet). */
  probePort: 4793,
  etcdPrefix: '/dvs/v1/',
};
