/**
 * `trace`: what the pipeline (pipeline.ts) would do with one frame, as OVS's
 * `ofproto/trace`, worked out from the data path's own tables. A pure
 * function: nothing is learned, sent or counted, and the hot path carries no
 * extra cost (it never calls this). The steps mirror switchFromPort():
 *
 *  1. classify  (when an ingress port is named) access: its VNI must be the
 *               frame's; trunk: the VLAN mapped to the VNI, else `unmapped-vlan`
 *  2. network   the VNI's network (`unknown-vni`): encap, MTU
 *  3. mtu       the largest payload the network carries (larger → `mtu`)
 *  4. source    group address → `bad-src-mac`; what learning would do:
 *               new / refresh / move / static (left alone)
 *  5. lookup    group destination or FDB miss → flood; hit → port or VTEP
 *  6. output    local port (tag pushed on a trunk; the ingress → `hairpin`),
 *               encap to a VTEP (UDP port and the tunnel header bytes), or
 *               the flood: other local members + one copy per flood-list VTEP
 */
import { formatMac } from '@dvs/wire';
import type { Encap } from '@dvs/wire';
import type { DropReason } from './counters.js';
import { DataPathError } from './data-path-error.js';
import { TUNNEL_HEADER_LENGTH, writeTunnelHeader } from './encap.js';
import type { FdbEntry } from './fdb.js';
import type { NetworkState } from './network.js';
import type { Peer } from './peer.js';
import { Port } from './port.js';

export interface TraceQuery {
  vni: number;
  /** Source and destination MAC as 48-bit numbers (@dvs/wire parseMac). */
  src: number;
  dst: number;
  /** Ingress port name; omitted: the frame is classified into `vni` directly. */
  port?: string;
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
      encap: Encap;
      /** The 8 bytes written in front of the frame, hex. */
      tunnelHeader: string;
    };

export type TraceAction = 'deliver-local' | 'encap' | 'flood' | 'drop';

export interface TraceReport {
  vni: number;
  src: string;
  dst: string;
  /** Ingress port, or null when none was named. */
  port: string | null;
  steps: TraceStep[];
  decision: {
    action: TraceAction;
    /** The drop counter that would count it (drop only). */
    dropReason: DropReason | null;
    reason: string;
    outputs: TraceOutputView[];
  };
}

/** The tables a trace reads (the pipeline's own maps). */
export interface TraceTables {
  networks: ReadonlyMap<number, NetworkState>;
  ports: ReadonlyMap<string, Port>;
  sockets: ReadonlyMap<Encap, unknown>;
}

const isGroup = (mac: number): boolean => Math.floor(mac / 0x10000000000) % 2 === 1;

export function tunnelHeaderHex(encap: Encap, vni: number): string {
  const header = new Uint8Array(TUNNEL_HEADER_LENGTH);
  writeTunnelHeader(encap, header, 0, vni);
  return Buffer.from(header).toString('hex');
}

function vtepOutput(net: NetworkState, peer: Peer): TraceOutputView {
  return {
    kind: 'vtep',
    vtep: peer.id,
    address: peer.address,
    udpPort: peer.port,
    encap: net.encap,
    tunnelHeader: tunnelHeaderHex(net.encap, net.vni),
  };
}

function describeOutput(out: TraceOutputView): string {
  if (out.kind === 'port') return out.vlan === null ? `port ${out.port}` : `port ${out.port} (tag ${out.vlan})`;
  return `${out.encap} to ${out.vtep} (UDP ${out.udpPort}, header ${out.tunnelHeader})`;
}

function describeLocation(entry: FdbEntry): string {
  return entry.location instanceof Port ? `port ${entry.location.name}` : `VTEP ${entry.location.id}`;
}

export function traceFrame(tables: TraceTables, query: TraceQuery): TraceReport {
  const steps: TraceStep[] = [];
  const report = (
    action: TraceAction,
    reason: string,
    outputs: TraceOutputView[] = [],
    dropReason: DropReason | null = null,
  ): TraceReport => ({
    vni: query.vni,
    src: formatMac(query.src),
    dst: formatMac(query.dst),
    port: query.port ?? null,
    steps,
    decision: { action, dropReason, reason, outputs },
  });
  const drop = (dropReason: DropReason, reason: string): TraceReport => report('drop', reason, [], dropReason);

  // 1. classify
  let ingress: Port | null = null;
  if (query.port !== undefined) {
    const port = tables.ports.get(query.port);
    if (port === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${query.port}`);
    ingress = port;
    if (port.mode === 'access') {
      if (port.accessVni !== query.vni) {
        steps.push({ step: 'classify', result: `access port ${port.name} puts every frame in VNI ${port.accessVni}` });
        return drop('unknown-vni', `a frame from ${port.name} is in VNI ${port.accessVni}, not ${query.vni}`);
      }
      steps.push({ step: 'classify', result: `access port ${port.name}: untagged → VNI ${query.vni}` });
    } else {
      const vlan = port.vniToVlan.get(query.vni);
      const mapping = [...port.vlanToVni].map(([v, n]) => `${v}=${n}`).join(',');
      if (vlan === undefined) {
        steps.push({
          step: 'classify',
          result: `trunk port ${port.name} (${mapping}) has no VLAN for VNI ${query.vni}`,
        });
        return drop('unmapped-vlan', `no VLAN of ${port.name} maps to VNI ${query.vni}`);
      }
      steps.push({
        step: 'classify',
        result: `trunk port ${port.name}: VLAN ${vlan} → VNI ${query.vni}, tag stripped`,
      });
    }
  }

  // 2. network, 3. mtu
  const net = tables.networks.get(query.vni);
  if (net === undefined) {
    steps.push({ step: 'network', result: `no network with VNI ${query.vni}` });
    return drop('unknown-vni', `VNI ${query.vni} is not a network on this host`);
  }
  steps.push({
    step: 'network',
    result: `VNI ${net.vni}: encap ${net.encap}, ${net.members.length} local port(s), ${net.floodList.peers.length} flood-list VTEP(s)`,
  });
  steps.push({ step: 'mtu', result: `payload up to ${net.spec.mtu} bytes; a larger frame is dropped (mtu)` });

  // 4. source
  if (isGroup(query.src)) {
    steps.push({ step: 'source', result: `${formatMac(query.src)} is a group address` });
    return drop('bad-src-mac', 'a frame never comes from a multicast or broadcast MAC');
  }
  const known = net.fdb.lookup(query.src);
  let learn: string;
  if (known === undefined)
    learn =
      ingress === null ? 'new: would be learned on the ingress port' : `new: would be learned on port ${ingress.name}`;
  else if (known.isStatic) learn = `static at ${describeLocation(known)}: left as it is`;
  else if (ingress === null) learn = `known at ${describeLocation(known)} (seq ${known.seq})`;
  else if (known.location === ingress) learn = `refresh: already at port ${ingress.name}`;
  else
    learn = `move: from ${describeLocation(known)} to port ${ingress.name}${known.local ? '' : ` (seq ${known.seq} → ${known.seq + 1})`}`;
  steps.push({ step: 'source', result: `${formatMac(query.src)} ${learn} (trace learns nothing)` });

  // 5. lookup, 6. output
  const entry = isGroup(query.dst) ? undefined : net.fdb.lookup(query.dst);
  if (entry === undefined) {
    steps.push({
      step: 'lookup',
      result: isGroup(query.dst) ? `${formatMac(query.dst)} is a group address: flood` : `FDB miss: flood`,
    });
    const outputs: TraceOutputView[] = [];
    for (const m of net.members) {
      if (m.port !== ingress) outputs.push({ kind: 'port', port: m.port.name, vlan: m.vlan < 0 ? null : m.vlan });
    }
    const peers = net.floodList.peers;
    const socket = tables.sockets.has(net.encap);
    if (socket) for (const peer of peers) outputs.push(vtepOutput(net, peer));
    steps.push({
      step: 'output',
      result:
        outputs.length === 0
          ? 'nowhere: no other local port, no flood-list VTEP'
          : outputs.map(describeOutput).join('; '),
    });
    if (!socket && peers.length > 0) {
      steps.push({
        step: 'output',
        result: `no ${net.encap} socket: the ${peers.length} VTEP copies are dropped (no-socket)`,
      });
    }
    return report('flood', isGroup(query.dst) ? 'BUM frame' : 'unknown unicast', outputs);
  }
  steps.push({
    step: 'lookup',
    result: `FDB hit: ${describeLocation(entry)} (seq ${entry.seq}${entry.isStatic ? ', static' : entry.control ? ', control' : ''})`,
  });
  if (entry.location instanceof Port) {
    const out = entry.location;
    if (out === ingress) return drop('hairpin', `the destination is on the ingress port ${out.name}`);
    const vlan = out.vniToVlan.get(net.vni);
    if (vlan === undefined) return drop('unknown-vni', `port ${out.name} is not in VNI ${net.vni}`);
    const output: TraceOutputView = { kind: 'port', port: out.name, vlan: vlan < 0 ? null : vlan };
    steps.push({ step: 'output', result: describeOutput(output) });
    return report('deliver-local', `destination on local port ${out.name}`, [output]);
  }
  if (!tables.sockets.has(net.encap)) return drop('no-socket', `no ${net.encap} socket is attached`);
  const output = vtepOutput(net, entry.location);
  steps.push({ step: 'output', result: describeOutput(output) });
  return report('encap', `destination behind VTEP ${entry.location.id}`, [output]);
}
