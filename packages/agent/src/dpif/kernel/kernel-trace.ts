import type { FdbEntry } from '@dvs/netdev';
import { VXLAN_HEADER_LENGTH, formatMac, isMulticastMac, writeVxlanHeader } from '@dvs/wire';
import type { DropReason } from '../../datapath/counters.js';
import type { TraceOutputView, TraceQuery, TraceReport, TraceStep } from '../../datapath/trace.js';
import { vtepId, type KernelNetwork } from './kernel-network.js';

/** What the kernel holds for the VNI, read just now. */
export interface KernelTraceState {
  network: KernelNetwork | null;
  /** The bridge's entries and the vxlan device's own, as rtnetlink dumps them. */
  entries: readonly FdbEntry[];
  /** The ports in the bridge. */
  ports: readonly { name: string; ifindex: number }[];
  /** The vxlan device's MTU (the overlay MTU). */
  mtu: number;
  /** The vxlan device's UDP port (for entries without one). */
  vtepPort: number;
}

const ETHERNET_HEADER = 14;

/**
 * `trace` on a kernel network. No frame is switched (the kernel would really
 * send it): the decision is read from the kernel's own state — the bridge's
 * FDB, then the vxlan device's FDB — following the bridge's and the vxlan
 * driver's rules (a MAC on a bridge port goes there; an unknown unicast is
 * flooded to the bridge's other ports and to the vxlan device, which sends
 * it to the VTEP of its entry for the MAC, or to every all-zeros entry).
 * The first step says so.
 */
export function traceKernel(query: TraceQuery, state: KernelTraceState): TraceReport {
  const steps: TraceStep[] = [];
  const report = (
    action: TraceReport['decision']['action'],
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
  const net = state.network;
  const ingress = query.port === undefined ? undefined : state.ports.find((p) => p.name === query.port);
  steps.push({
    step: 'classify',
    result: `kernel datapath: explained from the kernel's bridge and vxlan FDB (read now), not switched; ${
      query.port === undefined ? 'the frame enters the bridge directly' : `port ${query.port} → VNI ${query.vni}`
    }`,
  });
  if (net === null) return report('drop', `no network with VNI ${query.vni} on this host`, [], 'unknown-vni');
  if (net.problem !== null)
    return report('drop', `the network's kernel devices are missing: ${net.problem}`, [], 'unknown-vni');
  if (query.port !== undefined && ingress === undefined)
    return report('drop', `port ${query.port} is not in bridge ${net.bridge}`, [], 'unknown-vni');
  steps.push({ step: 'network', result: `VNI ${query.vni}: bridge ${net.bridge}, vxlan ${net.vxlan} (nolearning)` });
  const length = query.length ?? 64;
  if (length - ETHERNET_HEADER > state.mtu) {
    steps.push({ step: 'mtu', result: `payload ${length - ETHERNET_HEADER} > MTU ${state.mtu} of ${net.vxlan}` });
    return report('drop', `larger than the network's MTU ${state.mtu}`, [], 'mtu');
  }
  steps.push({ step: 'mtu', result: `payload ${length - ETHERNET_HEADER} ≤ MTU ${state.mtu}` });
  if (isMulticastMac(query.src)) return report('drop', 'a multicast source MAC', [], 'bad-src-mac');
  const portName = new Map(state.ports.map((p) => [p.ifindex, p.name]));
  const bridgeEntry = (mac: number): FdbEntry | undefined =>
    state.entries.find((e) => e.table === 'master' && e.mac === mac && e.state !== 'permanent');
  const srcAt = bridgeEntry(query.src);
  steps.push({
    step: 'source',
    result:
      ingress === undefined
        ? 'no ingress port: nothing learned'
        : srcAt === undefined
          ? `the bridge learns ${formatMac(query.src)} on ${ingress.name}`
          : `${formatMac(query.src)} is on ${portName.get(srcAt.ifindex) ?? `ifindex ${srcAt.ifindex}`} in the bridge${srcAt.ifindex === ingress.ifindex ? '' : `; it moves to ${ingress.name}`}`,
  });
  const others: TraceOutputView[] = state.ports
    .filter((p) => p.ifindex !== ingress?.ifindex)
    .map((p) => ({ kind: 'port', port: p.name, vlan: null }));
  const zeros = state.entries.filter(
    (e) => e.table === 'self' && e.ifindex === net.vxlanIndex && e.mac === 0 && e.dst !== '',
  );
  const tunnel = (e: FdbEntry): TraceOutputView => {
    const header = Buffer.alloc(VXLAN_HEADER_LENGTH);
    writeVxlanHeader(header, 0, e.vni ?? net.vni);
    const port = e.dstPort === 0 ? state.vtepPort : e.dstPort;
    return {
      kind: 'vtep',
      vtep: vtepId({ address: e.dst, port }),
      address: e.dst,
      udpPort: port,
      encap: 'vxlan',
      tunnelHeader: header.toString('hex'),
    };
  };
  if (isMulticastMac(query.dst)) {
    steps.push({ step: 'lookup', result: `${formatMac(query.dst)} is broadcast/multicast: flooded` });
    const outputs = [...others, ...zeros.map(tunnel)];
    steps.push({
      step: 'output',
      result: `${others.length} local port(s), ${zeros.length} all-zeros entr(ies) of ${net.vxlan}`,
    });
    return report('flood', 'BUM: every other bridge port and one copy per flood-list VTEP', outputs);
  }
  const dstAt = bridgeEntry(query.dst);
  if (dstAt !== undefined && dstAt.ifindex !== net.vxlanIndex) {
    const name = portName.get(dstAt.ifindex) ?? `ifindex ${dstAt.ifindex}`;
    steps.push({ step: 'lookup', result: `bridge FDB: ${formatMac(query.dst)} on ${name} (${dstAt.state})` });
    if (dstAt.ifindex === ingress?.ifindex)
      return report('drop', 'the destination is on the ingress port', [], 'hairpin');
    steps.push({ step: 'output', result: `port ${name}` });
    return report('deliver-local', `the bridge holds ${formatMac(query.dst)} on ${name}`, [
      { kind: 'port', port: name, vlan: null },
    ]);
  }
  const remote = state.entries.find(
    (e) => e.table === 'self' && e.ifindex === net.vxlanIndex && e.mac === query.dst && e.dst !== '',
  );
  if (remote !== undefined) {
    steps.push({
      step: 'lookup',
      result: `not in the bridge FDB (the vxlan port does not learn): flooded to ${net.vxlan}, whose FDB sends ${formatMac(query.dst)} to ${remote.dst}`,
    });
    const out = tunnel(remote);
    steps.push({
      step: 'output',
      result: `${out.kind === 'vtep' ? out.vtep : ''} and ${others.length} other local port(s) (unknown unicast in the bridge)`,
    });
    return report('encap', `the vxlan device's static entry for ${formatMac(query.dst)}`, [out, ...others]);
  }
  steps.push({ step: 'lookup', result: `${formatMac(query.dst)} is in neither FDB: unknown unicast, flooded` });
  steps.push({
    step: 'output',
    result: `${others.length} local port(s), ${zeros.length} all-zeros entr(ies) of ${net.vxlan}`,
  });
  return report('flood', 'unknown unicast: every other bridge port and one copy per flood-list VTEP', [
    ...others,
    ...zeros.map(tunnel),
  ]);
}
