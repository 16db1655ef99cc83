/**
 * `trace`: what the data path does with one frame, found by running it, as
 * OVS's `ofproto/trace` runs the real translation. There is no second copy of
 * the forwarding rules here: DataPath.trace() builds the frame (tagged for a
 * trunk port's VLAN of the VNI), and the pipeline switches it in a dry run
 * (Pipeline.dryRun) by its own steps, with a TraceRecorder as witness:
 *
 *  - nothing is counted (the ingress port's rx counters are restored),
 *  - the source is learned for real, so the lookup after it sees the table a
 *    frame would leave, and then the learn is taken back (Fdb.learnReversibly),
 *  - the frames the flush would hand to devices and sockets are read back
 *    instead: the port and the 802.1Q tag the pipeline pushed, or the VTEP,
 *    the UDP port it addressed and the 8 tunnel-header bytes it wrote,
 *  - no listener hears of it.
 *
 * This file turns what the recorder saw into the report (steps and decision).
 * trace-property.test.ts checks, for random tables and frames, that the
 * report says what switching the same frame for real does.
 */
import { ETHERTYPE_IPV4, ETHERTYPE_VLAN, formatMac, isMulticastMac, readVlanId, writeMac } from '@dvs/wire';
import type { PacketBatch } from '@dvs/netdev';
import type { TraceAction, TraceOutputView, TraceReport as WireTraceReport, TraceStep, TraceStepName } from '@dvs/wire';
import type { DropReason } from './counters.js';

export type { TraceAction, TraceOutputView, TraceStep, TraceStepName };
import { DataPathError } from './data-path-error.js';
import { TUNNEL_HEADER_LENGTH } from './encap.js';
import { LearnResult, type FdbEntry, type FdbLocation } from './fdb.js';
import type { NetworkState } from './network.js';
import type { Peer } from './peer.js';
import type { PipelineTracer, SocketTarget } from './pipeline.js';
import { Port } from './port.js';

export interface TraceQuery {
  vni: number;
  /** Source and destination MAC as 48-bit numbers (@dvs/wire parseMac). */
  src: number;
  dst: number;
  /** Ingress port name; omitted: the frame enters the VNI directly (a port of it that is no member). */
  port?: string;
  /** Frame length without an 802.1Q tag, 14 .. the largest frame (default 64). */
  length?: number;
}

export type TraceReport = WireTraceReport<DropReason>;

/** What the pipeline's destination lookup found, as it was at that moment. */
type Lookup = { hit: false } | { hit: true; where: string; local: boolean; seq: number; flags: string };

/** The witness of a dry run: records what each step of the pipeline decided. */
export class TraceRecorder implements PipelineTracer {
  vni: number | null = null;
  learn: { result: LearnResult; before: string | null; beforeSeq: number; afterSeq: number } | null = null;
  lookup: Lookup | null = null;
  readonly drops: DropReason[] = [];
  readonly outputs: TraceOutputView[] = [];
  private readonly undos: (() => void)[] = [];

  constructor(private readonly ingress: Port) {}

  classified(vni: number): void {
    this.vni = vni;
  }

  learned(
    result: LearnResult,
    before: { location: FdbLocation; seq: number } | null,
    after: FdbEntry | undefined,
    undo: () => void,
  ): void {
    this.undos.push(undo);
    this.learn = {
      result,
      before: before === null ? null : this.where(before.location),
      beforeSeq: before?.seq ?? 0,
      afterSeq: after?.seq ?? 0,
    };
  }

  lookedUp(entry: FdbEntry | undefined): void {
    this.lookup =
      entry === undefined
        ? { hit: false }
        : {
            hit: true,
            where: this.where(entry.location),
            local: entry.local,
            seq: entry.seq,
            flags: entry.isStatic ? ', static' : entry.control ? ', control' : '',
          };
  }

  dropped(reason: DropReason): void {
    this.drops.push(reason);
  }

  output(target: Port | SocketTarget, batch: PacketBatch, slot: number, peer: Peer | null): void {
    const start = batch.start(slot);
    if (target instanceof Port) {
      const vid = readVlanId(batch.buffer, start, batch.lengths[slot]);
      this.outputs.push({ kind: 'port', port: target.name, vlan: vid >= 0 ? vid : null });
      return;
    }
    const header = Buffer.from(batch.buffer.subarray(start, start + TUNNEL_HEADER_LENGTH)).toString('hex');
    this.outputs.push({
      kind: 'vtep',
      vtep: peer?.id ?? '?',
      address: peer?.address ?? '?',
      udpPort: batch.port[slot],
      sourcePort: target.sourcePortOf(batch, slot),
      encap: target.encap,
      tunnelHeader: header,
    });
  }

  /** Takes back what the run learned. */
  undo(): void {
    for (const undo of this.undos.splice(0).reverse()) undo();
  }

  private where(location: FdbLocation): string {
    if (location === this.ingress)
      return this.ingress.device === NO_DEVICE ? 'the ingress port' : `port ${location.name}`;
    return location instanceof Port ? `port ${location.name}` : `VTEP ${location.id}`;
  }
}

/**
 * Writes the frame a trace switches into slot 0 of `batch` at `headroom`: what
 * a VM behind `ingress` sends in the VNI (an IPv4 EtherType, zero payload),
 * tagged with the VLAN of the VNI on a trunk port (untagged when it has none,
 * as the VM's frame would be). Throws DataPathError DVS_BAD_ARGUMENT for an
 * access port of another VNI (every frame from it is in its own) and for a
 * length out of 14..maxLength - 4.
 */
export function writeTraceFrame(
  batch: PacketBatch,
  headroom: number,
  maxLength: number,
  query: TraceQuery,
  ingress: Port,
): void {
  if (ingress.mode === 'access' && ingress.accessVni !== query.vni) {
    throw new DataPathError(
      'DVS_BAD_ARGUMENT',
      `port ${ingress.name} is an access port of VNI ${ingress.accessVni}: every frame from it is in VNI ${ingress.accessVni}`,
    );
  }
  const length = query.length ?? 64;
  if (!Number.isInteger(length) || length < 14 || length > maxLength - 4) {
    throw new DataPathError('DVS_BAD_ARGUMENT', `frame length must be 14..${maxLength - 4}, got ${length}`);
  }
  const vlan = ingress.mode === 'trunk' ? ingress.vniToVlan.get(query.vni) : undefined;
  const frameLength = length + (vlan === undefined ? 0 : 4);
  const buf = batch.buffer;
  buf.fill(0, headroom, headroom + frameLength);
  writeMac(buf, headroom, query.dst);
  writeMac(buf, headroom + 6, query.src);
  let at = headroom + 12;
  if (vlan !== undefined) {
    buf.writeUInt16BE(ETHERTYPE_VLAN, at);
    buf.writeUInt16BE(vlan, at + 2);
    at += 4;
  }
  buf.writeUInt16BE(ETHERTYPE_IPV4, at);
  batch.offsets[0] = headroom;
  batch.lengths[0] = frameLength;
}

/** The device of the port a trace without a named port enters by: it is no member, so nothing is ever written to it. */
export const NO_DEVICE = {
  name: '(trace ingress)',
  mtu: 0,
  read: (): number => 0,
  write: (): number => 0,
  onReadable: (): void => undefined,
  close: (): void => undefined,
};

const describeOutput = (out: TraceOutputView): string =>
  out.kind === 'port'
    ? out.vlan === null
      ? `port ${out.port}`
      : `port ${out.port} (tag ${out.vlan})`
    : `${out.encap} to ${out.vtep} (UDP ${out.sourcePort === undefined ? '' : `${out.sourcePort} → `}${out.udpPort}, header ${out.tunnelHeader})`;

function describeLearn(learn: NonNullable<TraceRecorder['learn']>, at: string): string {
  switch (learn.result) {
    case LearnResult.Learned:
      return `new: learned on ${at}`;
    case LearnResult.Refreshed:
      return `refresh: already at ${at}`;
    case LearnResult.Moved: {
      const seq = learn.afterSeq !== learn.beforeSeq ? ` (seq ${learn.beforeSeq} → ${learn.afterSeq})` : '';
      return `move: from ${learn.before} to ${at}${seq}`;
    }
    case LearnResult.Ignored:
      return `static at ${learn.before}: left as it is`;
    case LearnResult.Reclaimed:
      return `back home: ${at} takes it back from the provisional claim of ${learn.before} (learn conflict)`;
    case LearnResult.Held:
    case LearnResult.Provisional:
      return `tunnel claim from ${at}: ${learn.result === LearnResult.Held ? 'held off by its local port' : 'provisional'}`;
    default:
      return 'not learned: the table of the VNI is full of static entries (refused)';
  }
}

/** The report of a dry run: each step as the recorder saw the pipeline take it. */
export function traceReport(
  query: TraceQuery,
  ingress: Port,
  named: boolean,
  networks: ReadonlyMap<number, NetworkState>,
  seen: TraceRecorder,
): TraceReport {
  const steps: TraceStep[] = [];
  const report = (action: TraceAction, reason: string, dropReason: DropReason | null = null): TraceReport => ({
    vni: seen.vni ?? query.vni,
    src: formatMac(query.src),
    dst: formatMac(query.dst),
    port: named ? ingress.name : null,
    steps,
    decision: { action, dropReason, reason, outputs: action === 'drop' ? [] : seen.outputs },
  });
  const firstDrop = seen.drops[0] ?? null;
  const at = named ? `port ${ingress.name}` : 'the ingress port';

  // 1. classify
  if (named && ingress.mode === 'access') {
    steps.push({ step: 'classify', result: `access port ${ingress.name}: untagged → VNI ${ingress.accessVni}` });
  } else if (named) {
    const mapping = [...ingress.vlanToVni].map(([v, n]) => `${v}=${n}`).join(',');
    const vlan = ingress.vniToVlan.get(query.vni);
    if (seen.vni === null) {
      steps.push({
        step: 'classify',
        result: `trunk port ${ingress.name} (${mapping}) has no VLAN for VNI ${query.vni}: the frame goes untagged`,
      });
      return report('drop', `${ingress.name} takes only tagged frames of its VLANs`, firstDrop);
    }
    steps.push({
      step: 'classify',
      result: `trunk port ${ingress.name}: VLAN ${vlan} → VNI ${seen.vni}, tag stripped`,
    });
  }
  if (seen.vni === null) return report('drop', 'the frame was not classified', firstDrop);

  // 2. network, 3. mtu
  const net = networks.get(seen.vni);
  if (net === undefined) {
    steps.push({ step: 'network', result: `no network with VNI ${seen.vni}` });
    return report('drop', `VNI ${seen.vni} is not a network on this host`, firstDrop);
  }
  steps.push({
    step: 'network',
    result: `VNI ${net.vni}: encap ${net.encap}, ${net.members.length} local port(s), ${net.floodList.peers.length} flood-list VTEP(s)`,
  });
  const payload = (query.length ?? 64) - 14;
  steps.push({ step: 'mtu', result: `payload ${payload} of at most ${net.spec.mtu} bytes` });
  if (firstDrop === 'mtu') return report('drop', `the payload is larger than the MTU of VNI ${net.vni}`, 'mtu');

  // 4. source
  if (seen.learn === null || firstDrop === 'bad-src-mac') {
    steps.push({ step: 'source', result: `${formatMac(query.src)} is a group address` });
    return report('drop', 'a frame never comes from a multicast or broadcast MAC', firstDrop);
  }
  steps.push({
    step: 'source',
    result: `${formatMac(query.src)} ${describeLearn(seen.learn, at)} (taken back: a trace learns nothing)`,
  });

  // 5. lookup, 6. output
  const lookup = seen.lookup;
  if (lookup === null) return report('drop', 'no lookup happened', firstDrop);
  const group = isMulticastMac(query.dst);
  steps.push({
    step: 'lookup',
    result: lookup.hit
      ? `FDB hit: ${lookup.where} (seq ${lookup.seq}${lookup.flags})`
      : group
        ? `${formatMac(query.dst)} is a group address: flood`
        : 'FDB miss: flood',
  });
  if (seen.outputs.length > 0) steps.push({ step: 'output', result: seen.outputs.map(describeOutput).join('; ') });
  if (!lookup.hit) {
    if (seen.outputs.length === 0)
      steps.push({ step: 'output', result: 'nowhere: no other local port, no flood-list VTEP' });
    if (firstDrop === 'no-socket')
      steps.push({ step: 'output', result: `no ${net.encap} socket: the flood-list copies are dropped (no-socket)` });
    return report('flood', group ? 'BUM frame' : 'unknown unicast');
  }
  if (firstDrop !== null) {
    const why: Partial<Record<DropReason, string>> = {
      hairpin: `the destination is on the ingress port ${ingress.name}`,
      'no-socket': `no ${net.encap} socket is attached`,
      'unknown-vni': `${lookup.where} is not in VNI ${net.vni}`,
    };
    return report('drop', why[firstDrop] ?? `dropped (${firstDrop})`, firstDrop);
  }
  return lookup.local
    ? report('deliver-local', `destination on local ${lookup.where}`)
    : report('encap', `destination behind ${lookup.where}`);
}
