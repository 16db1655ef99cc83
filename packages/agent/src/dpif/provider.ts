/**
 * The datapath provider interface, as Open vSwitch's dpif: what the agent's
 * control side (etcd sync, admin socket, ports, health) asks of whatever
 * forwards the frames. Two providers implement it:
 *
 *  - `userspace` (userspace-provider.ts): today's pipeline in this process
 *    (datapath/), reading TAPs and AF_PACKET sockets and sending UDP itself;
 *  - `kernel` (kernel/kernel-provider.ts): Linux's own bridge and vxlan
 *    devices, one pair per VNI, programmed over rtnetlink; no frame ever
 *    reaches this process.
 *
 * `Datapaths` (datapaths.ts) holds both and routes every call by VNI to the
 * provider that serves the network; the agent only ever talks to it.
 *
 * Contract shared by both providers:
 *  - apply() takes a batch whole or not at all (ControlSurface);
 *  - local MACs are reported as `mac:local` / `mac:gone` events with the VNI
 *    and the port; the etcd sync turns them into reports with RFC 7432 seqs;
 *  - views (FDB, ports, peers, networks, counters) have the same shape, so the
 *    CLI and the metrics do not care which provider serves a network;
 *  - trace() explains what the provider would do with a frame, from its own
 *    tables (the kernel provider from the kernel's FDB and bridge state).
 */
import type { FrameDevice } from '@dvs/netdev';
import type { ControlSurface, DataPathEvents, RejectedChange, TableChange } from '../datapath/control-surface.js';
import type { LearnConflictView } from '../datapath/provisional-moves.js';
import type { PolicerSpec } from '../datapath/token-bucket.js';
import type { MirrorConfig, MirrorView } from '../datapath/mirror.js';
import type { CountersSnapshot, TrafficCounters } from '../datapath/counters.js';
import type { PortSpec } from '../datapath/port.js';
import type { ProbeHandler, ProbeTarget } from '../datapath/probe.js';
import type { TraceQuery, TraceReport } from '../datapath/trace.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from '../datapath/views.js';

/** The providers and the choices (the admin replies, the network records and the CLI name them too: @dvs/wire). */
export { DATAPATH_KINDS, DATAPATH_CHOICES, isDatapathChoice, type DatapathKind, type DatapathChoice } from '@dvs/wire';
import type { DatapathKind } from '@dvs/wire';

/**
 * What a provider needs of a port's device:
 *  - 'frames': an open FrameDevice it reads and writes (a TAP fd, an AF_PACKET socket);
 *  - 'link': only the network device itself, which it enslaves to a bridge;
 *    nobody in this process reads its frames (a created TAP is left for QEMU to open).
 */
export type PortDeviceUse = 'frames' | 'link';

/** DataPathEvents as argument tuples (one payload each), the shape of the emitters' maps. */
export type DatapathEventArgs = { [K in keyof DataPathEvents]: [DataPathEvents[K]] };
export type DatapathListener<K extends keyof DataPathEvents> = (...args: DatapathEventArgs[K]) => void;

/** A network as served: which provider, and why that one. */
export interface NetworkPlacement {
  vni: number;
  provider: DatapathKind;
  /** Why: the choice that made it ('agent datapath: kernel', 'gre-udp: no FOU in this kernel', …). */
  reason: string;
}

/** A provider: the operations below and which one it is. */
export interface DatapathProvider extends DatapathOperations {
  readonly kind: DatapathKind;
  /**
   * Validates a batch without applying it (the same checks apply() makes),
   * so that a batch split over two providers is still whole or nothing.
   */
  check(changes: readonly TableChange[]): RejectedChange[];
}

/** What every provider does, and what `Datapaths` does by routing to them. */
export interface DatapathOperations extends ControlSurface {
  // ---- life ----------------------------------------------------------------
  /** Starts forwarding (reading ports and sockets; the kernel forwards by itself). */
  start(): void;
  /** Stops reading. The kernel provider leaves its devices: the kernel keeps forwarding on the last tables. */
  stop(): void;
  /**
   * The control plane's tables are complete (etcd's first full read, or the
   * static config): the provider may now remove what it holds that the
   * tables no longer name (a restarted kernel provider's stale devices and
   * entries). Never throws.
   */
  tablesLoaded(): void;

  // ---- ports ---------------------------------------------------------------
  portDeviceUse(spec: PortSpec): PortDeviceUse;
  /** Throws a coded error (DVS_PORT_EXISTS, DVS_BAD_ARGUMENT, …), changing nothing. */
  addPort(spec: PortSpec, device: FrameDevice, counters?: TrafficCounters): void;
  /** Removes a port, withdraws its MACs (mac:gone); returns its device for the caller to close. */
  removePort(name: string): FrameDevice;
  hasPort(name: string): boolean;
  /** A static local FDB entry on a port (static config). */
  addStaticLocal(vni: number, mac: number, portName: string): void;
  /** A frame as if received on a port (ports/announce: QEMU's RARP after a migration). */
  injectFrame(portName: string, frame: Uint8Array): void;

  // ---- tables and views ----------------------------------------------------
  hasNetwork(vni: number): boolean;
  fdbEntries(vni?: number): FdbEntryView[];
  /** Forgets learned entries; static and control entries stay. */
  flushFdb(vni?: number): number;
  portViews(): PortView[];
  peerViews(): PeerView[];
  networkViews(): NetworkView[];
  counters(): CountersSnapshot;
  trace(query: TraceQuery): TraceReport;

  /** A port's QoS policer for one direction (null: none); throws a coded error where the provider has none. */
  setPortPolicer(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void;
  /** Replaces the port mirrors (datapath/mirror.ts); absent where the provider has none (the kernel's). */
  setMirrors?(config: MirrorConfig): void;
  mirrorViews?(): MirrorView[];

  // ---- MAC locations (issue 12 B) ------------------------------------------
  /** Tunnel-learned moves that the controller did not confirm, recent first ([] where nothing is learned from tunnels). */
  learnConflicts(windowMs?: number): LearnConflictView[];
  /** Whether a controller can confirm moves now (etcd reachable); learning decides while it cannot. */
  setControlPlaneUp(up: boolean): void;

  // ---- tunnel health -------------------------------------------------------
  setProbeHandler(handler: ProbeHandler | null): void;
  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean;
  lastProbeSendError(): string | null;

  // ---- events --------------------------------------------------------------
  on<K extends keyof DataPathEvents>(event: K, listener: DatapathListener<K>): this;
  off<K extends keyof DataPathEvents>(event: K, listener: DatapathListener<K>): this;
}
