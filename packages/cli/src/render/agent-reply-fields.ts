/**
 * What `dvs agent … --help` says of each field of the agent's JSON replies.
 * Each description map is typed against its reply in @dvs/wire (AgentReplies),
 * so a field the agent adds or drops without a description here fails to
 * compile: the help cannot drift from the data.
 */
import type {
  AgentFdbEntryView,
  AgentNetworkRow,
  AgentPeerView,
  AgentPortView,
  CountersSnapshot,
  TraceReport,
  TrafficCounters,
  TunnelShowRow,
  TunnelSocketView,
  TunnelsShowData,
} from '@dvs/wire';

/** One description per field of T (optional fields too). */
export type ReplyFields<T> = { readonly [K in keyof Required<T>]: string };

/** `{ "field": description, … }`, one field a line, for a help text. */
export function describeReply<T>(fields: ReplyFields<T>, indent = '  '): string {
  const lines = Object.entries(fields as Record<string, string>).map(([name, what]) => `${indent}"${name}": ${what}`);
  return `{\n${lines.join(',\n')}\n${indent.slice(2)}}`;
}

const TRAFFIC: ReplyFields<TrafficCounters> = {
  rxFrames: 'frames received',
  rxBytes: 'bytes received',
  txFrames: 'frames sent',
  txBytes: 'bytes sent',
  txDrops: 'frames the device or socket refused (tx-full)',
};
const TRAFFIC_TEXT = describeReply(TRAFFIC, '      ');

export const PORT_FIELDS: ReplyFields<AgentPortView> = {
  name: 'the port (device) name',
  kind: '"tap-created" | "tap-adopted" | "attach"',
  plug: '"create" | "adopt" | "attach"',
  persistent: 'a created TAP that outlives the agent',
  origin: '"config" | "runtime" (ports/add, kept in the state file)',
  deviceKind: '"tap" | "veth" | "macvlan" | "physical" | … ("unknown" until first opened)',
  ifindex: "the attached device's ifindex, or null",
  state: '"up" | "down" | "gone"',
  since: 'when it entered its state, ms since the epoch',
  detail: 'why it is down or gone, or null',
  mode: '"access" | "trunk"',
  vni: 'the VNI (access), or null',
  vlans: '{ "<vlan>": vni } (trunk)',
  device: 'the device name',
  mtu: "the device's MTU",
  overlayMtu: 'the smallest overlay MTU of its networks, or null',
  mtuWarning: 'set while the device MTU exceeds the overlay MTU, or null',
  deviceGone: 'how many times its device went away',
  reattached: 'how many times it was attached again',
  counters: TRAFFIC_TEXT,
  security:
    '{ "allowed": [{ "mac", "ips" }], "lockFirstMac", "maxMacs", "storm": { "broadcastPps", "multicastPps", "unknownUnicastPps" }, "lockedMac" } (absent: none)',
  securityDrops:
    '{ "portSecurity", "arpSpoof", "ndSpoof", "macLimit", "taggedOnAccess", "stormBroadcast", "stormMulticast", "stormUnknownUnicast" }',
  deviceDrops:
    '{ "tooBig" }: frames its device dropped before switching (too-big: longer than the read slot, e.g. an attached device\'s TSO super-frame when the kernel refused PACKET_VNET_HDR)',
  qos: '{ "ingress", "egress": { "rateKbps", "burstKb", "policed" } | null } (ports/qos), absent while gone',
  offloads:
    '{ "enabled": [TAP offloads taken], "superFrames", "segments", "checksumsCompleted", "badHeaders", "unsegmentable", "coalesced", "coalescedSegments", "writeDrops" }: a TAP opened with offloads; absent otherwise',
};

export const FDB_FIELDS: ReplyFields<AgentFdbEntryView> = {
  vni: 'the VNI',
  mac: 'the MAC, aa:bb:cc:dd:ee:ff',
  kind: '"port" (local) | "vtep" (remote)',
  location: 'port name, or VTEP "address:port"',
  static: 'configured, never ages',
  control: 'set by the controller',
  seq: 'RFC 7432 sequence number',
  ageSeconds: 'seconds since last seen',
  moves: 'how often it moved',
  provisionalHome: 'a provisional move: where it goes back unless the controller confirms (absent: none)',
  ips: 'IPs bound to the MAC (ARP/ND suppression table)',
};

export const PEER_FIELDS: ReplyFields<AgentPeerView> = {
  vtep: '"address:port"',
  address: 'underlay address',
  port: 'UDP port',
  vnis: 'VNIs that list it',
  floodVnis: 'VNIs whose flood list holds it',
  counters: TRAFFIC_TEXT,
};

export const NETWORK_FIELDS: ReplyFields<AgentNetworkRow> = {
  vni: 'the VNI',
  provider: '"kernel" | "userspace": the datapath provider that serves it',
  providerReason: 'why that provider ("agent datapath: kernel", "gre-udp: this kernel has no FOU …", "auto: …")',
  encap: '"vxlan" | "gre-udp"',
  mtu: 'overlay MTU',
  ports: 'its local ports',
  floodList: 'VTEPs ("address:port") that get BUM copies',
  peers: 'VTEPs accepted as sources',
  arpSuppression: 'this host answers ARP/NS for bound IPs itself',
  flowExport:
    '{ "sflow", "ipfix" }: whether this host samples / caches its traffic (the network\'s flowExport; both false where the kernel provider serves it: it exports no flows)',
  suppression:
    '{ "bindings", "answered", "flooded", "conflicts", "refused", "recentConflicts": [ { "ip", "mac", "loser", "count" } ] }',
  fdbSize: 'FDB entries',
};

export const COUNTERS_FIELDS: ReplyFields<CountersSnapshot> = {
  drops: '{ "<drop reason>": n }',
  fdb: '{ "learns", "moves", "evictions", "aged", "refused", "provisional", "confirmed", "learnConflicts", "claimsIgnored", "size", "sizeByVni": { "<vni>": n } }',
  ports: '{ "<port>": traffic }',
  portSecurity: '{ "<port>": { "portSecurity", "arpSpoof", "ndSpoof", "macLimit", "taggedOnAccess", "storm…" } }',
  peers: '{ "address:port": traffic }',
  rejectedChanges: 'table changes refused (invalid or unknown network)',
  internalErrors: 'batches abandoned by a bug (stays 0)',
  listenerErrors: 'MAC event listeners that threw',
  mirrors: '{ "<mirror>" | "rspan-<vni>": { "mirrored", "mirroredBytes", "dropped" } }',
};

const TUNNEL_ROW_FIELDS: ReplyFields<TunnelShowRow> = {
  vtep: '{ "address", "port" }',
  host: 'the peer host, or null',
  encap: '"vxlan" | "gre-udp"',
  vni: 'the VNI the probes use',
  state: '"init" | "up" | "down" | "unmonitored"',
  rtt: '{ "lastMs", "avgMs", "p99Ms" } | null',
  lossPct: 'probe loss, %',
  lastChange: 'ms since the epoch',
  reason: 'why it is in its state',
  detail: 'more words on the reason, or null',
  rxPackets: 'probe replies received',
  txPackets: 'probes sent',
  rxBytes: 'bytes received',
  txBytes: 'bytes sent',
  probes: '{ "sent", "replies", "sendErrors" }',
};

export const TUNNELS_FIELDS: ReplyFields<TunnelsShowData> = {
  host: 'this host',
  session: "this agent's probe session id",
  intervalMs: 'probe interval',
  multiplier: 'probes missed before down',
  upAfter: 'replies needed before up',
  peers: `[ ${describeReply(TUNNEL_ROW_FIELDS, '      ')} ]`,
};

export const SOCKET_FIELDS: ReplyFields<TunnelSocketView> = {
  encap: '"vxlan"|"gre-udp": an encap of the userspace datapath; "probe": probes of the kernel provider',
  address: 'the local address it is bound to',
  port: 'the local UDP port',
  receive: '"gro": UDP_GRO on, super-datagrams read whole (offloads on); "plain": one datagram per read',
  send: '"gso": runs of datagrams to one VTEP sent as UDP GSO messages; "plain": one message per datagram',
  datagramsIn: 'datagrams received',
  datagramsOut: 'datagrams sent',
  groMessages: 'super-datagrams read (each holds several of datagramsIn)',
  gsoMessages: 'UDP GSO messages sent (each holds several of datagramsOut)',
};

export const TRACE_FIELDS: ReplyFields<TraceReport> = {
  vni: 'the VNI',
  src: 'source MAC',
  dst: 'destination MAC',
  port: 'the ingress port, or null',
  steps: '[ { "step": "classify"|"network"|"mtu"|"source"|"lookup"|"output", "result" } ]',
  decision: `{ "action": "deliver-local"|"encap"|"flood"|"drop", "dropReason": <drop counter> | null, "reason",
      "outputs": [ { "kind": "port", "port", "vlan" }
                 | { "kind": "vtep", "vtep", "address", "udpPort", "sourcePort"?, "encap", "tunnelHeader" } ] }`,
};
