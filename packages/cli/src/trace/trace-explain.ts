/**
 * `dvs trace` worked out on the CLI side, for agents without a `trace` admin
 * command: the decision the data path would take for a frame (vni, src, dst)
 * entering at a host, derived from the controller's tables (network, FDB,
 * flood list, host ports, tunnel status) and, when given, the host agent's own
 * FDB (`fdb/show`, what its data path forwards on). Every result says which
 * tables it came from; it is an explanation, not a packet run through the
 * data path.
 *
 * Steps, as the data path takes them:
 *   1. network   the VNI must be a network (else drop: unknown-vni)
 *   2. source    src must be a unicast MAC (else drop: bad source)
 *   3. ingress   the host the frame enters at (--host, or where the FDB puts src)
 *   4. classify  the host's ports in the VNI (access / trunk VLAN)
 *   5. lookup    dst: broadcast/multicast → flood; FDB hit → port or VTEP; miss → flood
 *   6. output    local delivery, encap to a VTEP (with the tunnel's health), or
 *                local ports + head-end copies to the flood list
 */
import { BROADCAST_MAC, isMulticastMac, parseMac, type TunnelStatusRecord } from '@dvs/wire';
import type { FdbEntryView, FloodListView, HostView, NetworkView } from '../clients/controller-api.js';
import { formatMs, formatVtep } from '../render/format.js';

export interface TraceStep {
  step: 'network' | 'source' | 'ingress' | 'classify' | 'lookup' | 'output';
  result: string;
}

export interface TraceOutput {
  kind: 'port' | 'vtep';
  /** Host of the port or VTEP; null for an external VTEP. */
  host: string | null;
  /** Port name when the agent's FDB names it. */
  port?: string;
  vtep?: { address: string; port: number };
  encap?: string;
  /** Health of the tunnel from the ingress host to this VTEP, when reported. */
  tunnel?: { state: string; reason: string; rttAvgMs: number | null } | null;
}

export type TraceAction = 'deliver-local' | 'encap' | 'flood' | 'drop' | 'unknown';

export interface TraceResult {
  /** Which tables this explanation was derived from. */
  source: string;
  vni: number;
  src: string;
  dst: string;
  host: string | null;
  steps: TraceStep[];
  decision: { action: TraceAction; reason: string; outputs: TraceOutput[] };
  /** Things an operator should look at (tunnel down, duplicate MAC, …). */
  warnings: string[];
}

/** One row of the agent's fdb/show data (agent datapath FdbEntryView). */
export interface AgentFdbRow {
  vni: number;
  mac: string;
  kind: 'port' | 'vtep';
  location: string;
}

export interface TraceTables {
  network: NetworkView | null;
  /** Controller FDB entries of the VNI. */
  fdb: readonly FdbEntryView[];
  flood: FloodListView | null;
  hosts: readonly HostView[];
  tunnels: readonly TunnelStatusRecord[];
  /** The ingress agent's own FDB, when it was asked. */
  agentFdb?: readonly AgentFdbRow[] | null;
}

export interface TraceQuery {
  vni: number;
  src: string;
  dst: string;
  host?: string;
}

function tunnelOf(tables: TraceTables, from: string, vtep: { address: string; port: number }): TraceOutput['tunnel'] {
  const record = tables.tunnels.find((t) => t.host === from);
  const peer = record?.peers.find((p) => p.vtep.address === vtep.address && p.vtep.port === vtep.port);
  if (!peer) return null;
  return { state: peer.state, reason: peer.reason, rttAvgMs: peer.rtt?.avgMs ?? null };
}

function describeTunnel(t: TraceOutput['tunnel']): string {
  if (!t) return 'tunnel health not reported';
  const rtt = t.rttAvgMs === null ? '' : `, rtt ${formatMs(t.rttAvgMs)} ms`;
  return `tunnel ${t.state} (${t.reason}${rtt})`;
}

export function explainTrace(query: TraceQuery, tables: TraceTables, source: string): TraceResult {
  const steps: TraceStep[] = [];
  const warnings: string[] = [];
  const result = (action: TraceAction, reason: string, outputs: TraceOutput[] = []): TraceResult => ({
    source,
    vni: query.vni,
    src: query.src,
    dst: query.dst,
    host: ingress,
    steps,
    decision: { action, reason, outputs },
    warnings,
  });
  let ingress: string | null = query.host ?? null;

  // 1. network
  const net = tables.network;
  if (net === null) {
    steps.push({ step: 'network', result: `no network with VNI ${query.vni}` });
    return result('drop', 'unknown-vni: the VNI is not a network (dvs networks list)');
  }
  steps.push({
    step: 'network',
    result: `VNI ${net.vni} "${net.name}": encap ${net.encap}, mtu ${net.mtu}, flood ${net.floodMode}`,
  });

  // 2. source
  const srcMac = parseMac(query.src) as number;
  if (isMulticastMac(srcMac)) {
    steps.push({ step: 'source', result: `${query.src} is a group address` });
    return result('drop', 'bad source: a frame never comes from a multicast or broadcast MAC');
  }
  const srcEntry = tables.fdb.find((e) => e.mac === query.src);
  steps.push({
    step: 'source',
    result: srcEntry
      ? `${query.src} is at ${srcEntry.host ?? `external VTEP ${formatVtep(srcEntry.vtep)}`} (seq ${srcEntry.seq}${srcEntry.duplicate ? ', DUPLICATE' : ''})`
      : `${query.src} is not in the FDB yet (learned when its first frame arrives)`,
  });

  // 3. ingress
  if (ingress === null) {
    if (!srcEntry || srcEntry.host === null) {
      steps.push({ step: 'ingress', result: 'unknown: pass --host to say where the frame enters' });
      return result('unknown', 'ingress host unknown: the source MAC is not on a dvs host; use --host');
    }
    ingress = srcEntry.host;
    steps.push({ step: 'ingress', result: `${ingress} (where the FDB places the source)` });
  } else {
    steps.push({ step: 'ingress', result: `${ingress} (--host)` });
    if (srcEntry && srcEntry.host !== null && srcEntry.host !== ingress) {
      warnings.push(
        `${query.src} is located on ${srcEntry.host}: seen on ${ingress} it is a move (reported with seq ${srcEntry.seq + 1})`,
      );
    }
  }
  const host = tables.hosts.find((h) => h.host === ingress);
  if (!host) {
    steps.push({ step: 'classify', result: `host ${ingress} is not registered` });
    return result('drop', `unknown host ${ingress}: see dvs hosts`);
  }
  if (host.state !== 'up') warnings.push(`host ${ingress} is ${host.state}`);

  // 4. classify
  const ports = host.ports.flatMap((p) =>
    p.bindings
      .filter((b) => b.vni === query.vni)
      .map((b) => (b.vlan === null ? `${p.port} (access)` : `${p.port} vlan ${b.vlan} (trunk)`)),
  );
  steps.push({
    step: 'classify',
    result:
      ports.length > 0
        ? `ports of ${ingress} in VNI ${query.vni}: ${ports.join(', ')}`
        : `${ingress} has no port in VNI ${query.vni}`,
  });
  if (ports.length === 0)
    warnings.push(`no port of ${ingress} is in VNI ${query.vni}: no VM there can send this frame`);

  // 5. lookup
  const dstMac = parseMac(query.dst) as number;
  const agentRow = tables.agentFdb?.find((r) => r.vni === query.vni && r.mac === query.dst);
  const dstEntry = tables.fdb.find((e) => e.mac === query.dst);
  const flood = (reason: string): TraceResult => {
    if (net.floodMode === 'none') {
      steps.push({ step: 'output', result: `flood mode none: only the other local ports of ${ingress} in the VNI` });
      return result('flood', `${reason}; flood mode none keeps it on ${ingress}`, [{ kind: 'port', host: ingress }]);
    }
    const own = host.vtep;
    const members = (tables.flood?.members ?? []).filter((m) => !(m.address === own.address && m.port === own.port));
    const outputs: TraceOutput[] = [{ kind: 'port', host: ingress }];
    for (const m of members) {
      const vtep = { address: m.address, port: m.port };
      const tunnel =
        m.host === null
          ? { state: 'unmonitored', reason: 'external peer', rttAvgMs: null }
          : tunnelOf(tables, ingress as string, vtep);
      outputs.push({ kind: 'vtep', host: m.host, vtep, encap: net.encap, tunnel });
      if (tunnel?.state === 'down') warnings.push(`copy to ${formatVtep(vtep)} is lost: ${describeTunnel(tunnel)}`);
    }
    steps.push({
      step: 'output',
      result: `other local ports of ${ingress} in the VNI + ${members.length} head-end ${net.encap} cop${members.length === 1 ? 'y' : 'ies'}: ${
        members.map((m) => `${formatVtep(m)} (${m.host ?? 'external'})`).join(', ') || 'none'
      }`,
    });
    return result('flood', reason, outputs);
  };
  if (dstMac === BROADCAST_MAC || isMulticastMac(dstMac)) {
    steps.push({
      step: 'lookup',
      result: `${query.dst} is ${dstMac === BROADCAST_MAC ? 'broadcast' : 'multicast'}: BUM`,
    });
    return flood('BUM frame');
  }
  if (agentRow) {
    steps.push({
      step: 'lookup',
      result: `agent FDB hit: ${agentRow.kind === 'port' ? `local port ${agentRow.location}` : `VTEP ${agentRow.location}`}`,
    });
  } else if (tables.agentFdb) {
    steps.push({ step: 'lookup', result: `agent FDB miss for ${query.dst}` });
  }
  if (!agentRow && !dstEntry) {
    if (!tables.agentFdb) steps.push({ step: 'lookup', result: `FDB miss: ${query.dst} unknown in VNI ${query.vni}` });
    return flood('unknown unicast');
  }
  if (dstEntry) {
    steps.push({
      step: 'lookup',
      result: `controller FDB: ${query.dst} at ${dstEntry.host ?? 'external'} ${formatVtep(dstEntry.vtep)} (seq ${dstEntry.seq}, ${dstEntry.origin})`,
    });
    if (dstEntry.duplicate) warnings.push(`${query.dst} is a duplicate, frozen: ${dstEntry.reason}`);
  }
  const local = agentRow ? agentRow.kind === 'port' : dstEntry?.host === ingress;
  if (local) {
    const port = agentRow?.kind === 'port' ? agentRow.location : undefined;
    steps.push({
      step: 'output',
      result: `deliver to local port ${port ?? `of ${ingress} (dvs agent fdb ${query.vni} names it)`}`,
    });
    return result('deliver-local', `destination is local to ${ingress}`, [
      { kind: 'port', host: ingress, ...(port ? { port } : {}) },
    ]);
  }
  let vtep = dstEntry?.vtep;
  if (agentRow && agentRow.kind === 'vtep') {
    const [address, portText] = splitVtep(agentRow.location);
    vtep = { address, port: Number(portText) };
    if (dstEntry && (dstEntry.vtep.address !== address || dstEntry.vtep.port !== vtep.port)) {
      warnings.push(
        `agent and controller disagree: agent sends to ${agentRow.location}, controller says ${formatVtep(dstEntry.vtep)}`,
      );
    }
  }
  const target = vtep as { address: string; port: number };
  const peerHost =
    dstEntry?.host ??
    tables.hosts.find((h) => h.vtep.address === target.address && h.vtep.port === target.port)?.host ??
    null;
  const tunnel =
    peerHost === null
      ? { state: 'unmonitored', reason: 'external peer', rttAvgMs: null }
      : tunnelOf(tables, ingress, target);
  steps.push({
    step: 'output',
    result: `encap ${net.encap} VNI ${query.vni} → ${formatVtep(target)} (${peerHost ?? 'external'}): ${describeTunnel(tunnel)}`,
  });
  if (tunnel?.state === 'down') warnings.push(`frames to ${formatVtep(target)} are lost: ${describeTunnel(tunnel)}`);
  return result('encap', `destination is behind ${peerHost ?? 'external VTEP'} ${formatVtep(target)}`, [
    { kind: 'vtep', host: peerHost, vtep: target, encap: net.encap, tunnel },
  ]);
}

/** "192.0.2.1:4789" or "[2001:db8::1]:4789" → [address, port]. */
function splitVtep(text: string): [string, string] {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(text);
  if (bracketed) return [bracketed[1], bracketed[2]];
  const i = text.lastIndexOf(':');
  return [text.slice(0, i), text.slice(i + 1)];
}

export function renderTrace(trace: TraceResult): string {
  const width = Math.max(...trace.steps.map((s) => s.step.length));
  const lines = [
    `trace VNI ${trace.vni} ${trace.src} → ${trace.dst}${trace.host ? ` at ${trace.host}` : ''}`,
    `source: ${trace.source}`,
    '',
    ...trace.steps.map((s, i) => `${i + 1}. ${s.step.padEnd(width)}  ${s.result}`),
    '',
    `decision: ${trace.decision.action}: ${trace.decision.reason}`,
  ];
  for (const w of trace.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
