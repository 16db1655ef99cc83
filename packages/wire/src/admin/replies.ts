/**
 * The agent's admin-socket replies: the `data` each command answers with, as
 * `dvs agent … --json` prints it. One definition, shared by the agent (which
 * builds these), the CLI, the lab and the tests (which read them). Types
 * only: nothing here runs.
 *
 * Drop reasons are the data path's own list (the agent's DROP_REASONS); the
 * types that carry them take it as a parameter and default to `string` for
 * readers that only print them.
 */
import type { Encap } from '../frames/encap.js';
import type { PeerTunnelStatus } from '../records/tunnel-status.js';
import type { PortKind, PortState } from '../records/port.js';
import type { PortPlug } from './port-plug.js';
import type { PortSecurity, PortSecurityCounters } from './port-security.js';
import type { DatapathKind } from '../datapath/datapath-choice.js';

/** rx/tx frames and bytes of one port or one peer. */
export interface TrafficCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames this port/peer should have received but the device/socket refused (tx-full). */
  txDrops: number;
}

/** One FDB entry (`fdb/show`). */
export interface AgentFdbEntryView {
  vni: number;
  mac: string;
  /** 'port' (local) or 'vtep' (remote). */
  kind: 'port' | 'vtep';
  /** Port name, or VTEP "address:port". */
  location: string;
  static: boolean;
  /** Entry set by the control plane (never ages until learning moves it). */
  control: boolean;
  seq: number;
  ageSeconds: number;
  moves: number;
  /** A provisional move: where the MAC goes back unless the controller confirms (port name or VTEP). */
  provisionalHome?: string;
  /** IPs bound to the MAC (ARP/ND suppression's table), canonical text. */
  ips: string[];
}

/** A port as the data path sees it. */
export interface DataPathPortView {
  name: string;
  mode: 'access' | 'trunk';
  /** access: the VNI; trunk: null. */
  vni: number | null;
  /** trunk: VLAN → VNI. */
  vlans: Record<string, number>;
  device: string;
  mtu: number;
  counters: TrafficCounters;
  /** Port security as configured, and the MAC it locked to; absent: none. */
  security?: PortSecurity & { lockedMac?: string };
  /** Drops by port security and L2 hygiene on this port. */
  securityDrops?: PortSecurityCounters;
  /** Frames the port's device dropped before the data path saw them (since the device was opened). */
  deviceDrops?: PortDeviceDrops;
  /** QoS policers (ports/qos); absent while the port has no device in the data path. */
  qos?: { ingress: PortPolicerView | null; egress: PortPolicerView | null };
  /** A TAP opened with offloads (config `offloads`): what it took, and what the data path segmented or dropped. */
  offloads?: PortOffloadView;
}

/** A port's device drops, by reason (each is also a data-path drop reason). */
export interface PortDeviceDrops {
  /**
   * `too-big`: longer than the data path's read slot. An attached device
   * whose kernel refused PACKET_VNET_HDR hands over each TSO super-frame of
   * its VM or veth peer as one such frame.
   */
  tooBig: number;
}

export interface PortOffloadView {
  /** TUNSETOFFLOAD flags the kernel took ('csum', 'tso4', …). */
  enabled: string[];
  superFrames: number;
  segments: number;
  checksumsCompleted: number;
  /** Frames whose virtio-net header did not decode: dropped. */
  badHeaders: number;
  /** Super-frames that could not be segmented: dropped. */
  unsegmentable: number;
  /** Super-frames coalesced from segments and written to the TAP, and the segments they hold. */
  coalesced: number;
  coalescedSegments: number;
  /** Frames the TAP had no room for when written: dropped. */
  writeDrops: number;
}

/** A port's token-bucket policer for one direction: OVS's ingress_policing_rate/burst. */
export interface PortPolicerView {
  rateKbps: number;
  burstKb: number;
  /** Frames it dropped. */
  policed: number;
}

/** Where a port comes from: the config file, or `ports/add` at run time (kept in the state file). */
export type PortOrigin = 'config' | 'runtime';

/** A port as the agent shows it (`ports/show`, `ports/add`, `dvs agent ports`, `ports/<host>/…`). */
export interface AgentPortView extends DataPathPortView {
  kind: PortKind;
  plug: PortPlug;
  persistent: boolean;
  origin: PortOrigin;
  /** The device's kind ('tap', 'veth', 'macvlan', 'physical', …); 'unknown' until it was first opened. */
  deviceKind: string;
  /** The attached device's ifindex (null for TAP ports and while gone). */
  ifindex: number | null;
  state: PortState;
  /** When the port entered its state, ms since the epoch. */
  since: number;
  /** Why the port is down or gone (the last error or event), or null. */
  detail: string | null;
  /** The smallest overlay MTU of the port's networks (null: none known). */
  overlayMtu: number | null;
  /** Set while the device's MTU is larger than overlayMtu: frames above it are dropped (mtu). */
  mtuWarning: string | null;
  /** How many times its device went away, and came back (attached again). */
  deviceGone: number;
  reattached: number;
}

/** A peer VTEP (`peers/show`). */
export interface AgentPeerView {
  vtep: string;
  address: string;
  port: number;
  /** VNIs that list it (peers, flood list or control FDB entries). */
  vnis: number[];
  /** VNIs whose flood list holds it. */
  floodVnis: number[];
  counters: TrafficCounters;
}

/** A network (`networks/show`). */
export interface AgentNetworkView {
  vni: number;
  encap: Encap;
  mtu: number;
  ports: string[];
  floodList: string[];
  peers: string[];
  fdbSize: number;
  /** Whether this host answers ARP requests and NSs for bound IPs itself. */
  arpSuppression: boolean;
  /**
   * What this host exports of its traffic: the network's `flowExport` on the
   * userspace datapath (where the exporter is on); both false on the kernel
   * provider, which exports no flows.
   */
  flowExport: { sflow: boolean; ipfix: boolean };
  suppression: AgentSuppressionView;
}

/** ARP/ND suppression of one network on one host. */
export interface AgentSuppressionView {
  /** IP → MAC bindings held (learned from local ports, or published by the controller). */
  bindings: number;
  /** ARP requests and NSs answered locally. */
  answered: number;
  /** ARP requests and NSs for an IP with no live binding: flooded as before. */
  flooded: number;
  /** Claims of a bound IP by a second MAC (the first one keeps it). */
  conflicts: number;
  /** New bindings refused by a full table. */
  refused: number;
  /** The latest conflicts: the IP, the MAC that holds it, the MAC that lost, how often. */
  recentConflicts: { ip: string; mac: string; loser: string; count: number }[];
}

/** A network as `networks/show` answers: its view and the provider that serves it, with why. */
export interface AgentNetworkRow extends AgentNetworkView {
  provider: DatapathKind;
  /** 'agent datapath: kernel', 'gre-udp: this kernel has no FOU (GRE-in-UDP): …', 'auto: …'. */
  providerReason: string;
}

/** FDB activity, summed over every VNI. */
export interface FdbCounters {
  learns: number;
  moves: number;
  evictions: number;
  aged: number;
  /** Learns refused because the VNI's table was full of static entries. */
  refused: number;
  /** Tunnel claims that moved a MAC provisionally, against the controller's (or an idle local port's) entry. */
  provisional: number;
  /** Provisional moves the controller confirmed in time. */
  confirmed: number;
  /** Tunnel claims that did not stand (reverted or held off): `learn-conflict`. */
  learnConflicts: number;
  /** Further claims of a VTEP already rejected for that MAC, ignored. */
  claimsIgnored: number;
}

/** Every counter (`counters/show`, metrics). */
export interface CountersSnapshot<Drop extends string = string> {
  drops: Record<Drop, number>;
  fdb: FdbCounters & { size: number; sizeByVni: Record<string, number> };
  ports: Record<string, TrafficCounters>;
  /** Per port: drops by port security and L2 hygiene. */
  portSecurity: Record<string, PortSecurityCounters>;
  peers: Record<string, TrafficCounters>;
  /** Table changes apply() rejected (invalid VNI, MAC, VTEP, unknown network, …). */
  rejectedChanges: number;
  /** Batches abandoned because switching threw (a bug; stays 0). */
  internalErrors: number;
  /** MAC event listeners that threw (after their batch was out: no frame lost). */
  listenerErrors: number;
  /** Per mirror (and per RSPAN analyser port, `rspan-<vni>`): copies made and copies that could not be. */
  mirrors?: Record<string, MirrorCounters>;
}

export interface MirrorCounters {
  /** Copies queued to the output (an analyser port: copies handed to it), and their bytes. */
  mirrored: number;
  mirroredBytes: number;
  /** Copies that could not be made (output port absent or down, no socket for the RSPAN encap). */
  dropped: number;
}

/** One mirror of an agent (`mirrors/show`); an RSPAN analyser port shows as `rspan-<vni>` with output kind `sink`. */
export interface MirrorView extends MirrorCounters {
  name: string;
  sourcePorts: string[];
  sourceVnis: number[];
  direction: 'ingress' | 'egress' | 'both';
  srcMac: string | null;
  dstMac: string | null;
  vlan: number | null;
  sampleEvery: number;
  output:
    | { kind: 'port'; port: string; /** false while the port is not attached */ present: boolean }
    | { kind: 'rspan'; vni: number; encap: Encap; vtep: string }
    | { kind: 'sink'; vni: number; port: string; present: boolean };
}

export type TraceStepName = 'classify' | 'network' | 'mtu' | 'source' | 'lookup' | 'output';

export interface TraceStep {
  step: TraceStepName;
  result: string;
}

export type TraceOutputView =
  | { kind: 'port'; port: string; /** Egress 802.1Q tag; null: untagged. */ vlan: number | null }
  | {
      kind: 'vtep';
      vtep: string;
      address: string;
      /** UDP destination port of the tunnel packet. */
      udpPort: number;
      /** UDP source port it leaves from (per-flow, from the source-port pool); absent when not known. */
      sourcePort?: number;
      encap: Encap;
      /** The 8 bytes written in front of the frame, hex. */
      tunnelHeader: string;
    };

export type TraceAction = 'deliver-local' | 'encap' | 'flood' | 'drop';

/** What the data path did with one frame in a dry run (`trace`). */
export interface TraceReport<Drop extends string = string> {
  vni: number;
  src: string;
  dst: string;
  /** Ingress port, or null when none was named. */
  port: string | null;
  steps: TraceStep[];
  decision: {
    action: TraceAction;
    /** The drop counter that counts it (drop only). */
    dropReason: Drop | null;
    reason: string;
    outputs: TraceOutputView[];
  };
}

/** One tunnel (`tunnels/show`): the shape of `status/<host>`'s peers plus probe details. */
export interface TunnelShowRow extends PeerTunnelStatus {
  vni: number;
  /** More words on the reason (errno code, reply count), or null. */
  detail: string | null;
  probes: { sent: number; replies: number; sendErrors: number };
}

/** `tunnels/show`. */
export interface TunnelsShowData {
  host: string;
  /** This agent's probe session id. */
  session: number;
  intervalMs: number;
  multiplier: number;
  upAfter: number;
  peers: TunnelShowRow[];
}

/**
 * One tunnel socket of the agent (`sockets/show`) and how it meets the
 * kernel: with `offloads: on` the encap sockets read with UDP_GRO; off, or
 * when the kernel refused it, one datagram per read.
 */
export interface TunnelSocketView {
  /** What it carries: an encap of the userspace datapath, or the kernel provider's probes. */
  encap: Encap | 'probe';
  address: string;
  port: number;
  /** 'gro': UDP_GRO on, super-datagrams read whole; 'plain': one datagram per read slot. */
  receive: 'gro' | 'plain';
  /** 'gso': runs of datagrams to one VTEP leave as UDP GSO messages; 'plain': one message per datagram. */
  send: 'gso' | 'plain';
  datagramsIn: number;
  datagramsOut: number;
  /** Super-datagrams read (each holds several of datagramsIn). */
  groMessages: number;
  /** UDP GSO messages sent (each holds several of datagramsOut). */
  gsoMessages: number;
}

/** `version`. */
export interface VersionReply {
  version: string;
  host: string;
  node: string;
}

/** The data each admin command answers with, by command name. */
export interface AgentReplies {
  version: VersionReply;
  'ports/show': AgentPortView[];
  'ports/add': AgentPortView;
  'ports/del': { name: string };
  'ports/announce': { port: string; mac: string; count: number };
  'fdb/show': AgentFdbEntryView[];
  'fdb/flush': { vni: number | null; flushed: number };
  'peers/show': AgentPeerView[];
  'networks/show': AgentNetworkRow[];
  'counters/show': CountersSnapshot;
  'mirrors/show': MirrorView[];
  'tunnels/show': TunnelsShowData;
  'sockets/show': TunnelSocketView[];
  trace: TraceReport;
}

export type AgentCommandName = keyof AgentReplies;
