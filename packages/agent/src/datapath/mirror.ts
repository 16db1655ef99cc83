/**
 * Port mirroring (SPAN, and the source side of RSPAN) in the data path.
 *
 * Spec
 *  - A mirror selects frames by source: local ports (by name) and/or VNIs,
 *    and by direction. Ingress: frames a source port sends into the switch
 *    (a VNI source: frames any local port sends into that VNI). Egress: frames
 *    the switch hands to a source port (a VNI source: to any local port of
 *    that VNI), as they are queued — before the port's egress limit.
 *  - Optional filters: source MAC, destination MAC, VLAN (the 802.1Q tag the
 *    frame has on the source port's wire; a frame of an access port has none
 *    and never matches a VLAN filter). Then 1-in-N sampling: every N-th frame
 *    that passed the filters, counted per mirror (deterministic, so a test
 *    or an operator can predict it exactly).
 *  - A copy is the frame as it is on the source port's wire (a trunk port's
 *    frames keep their tag). It goes to the output: a local port (SPAN), or
 *    a remote VTEP inside a dedicated mirror VNI (RSPAN: the copy gets its own
 *    tunnel header; the host there hands it to its analyser port, see
 *    MirrorSinkSpec).
 *  - An output port is not switched: nothing is flooded or forwarded to it,
 *    and what it sends is dropped (`mirror-output`). So an analyser sees
 *    exactly the copies, and copies can never loop back into a mirror
 *    (an output can be no mirror's source: checkMirrorConfig). Copies never
 *    pass through learning.
 *  - Copies take slots of the pipeline's preallocated copy batch, like flood
 *    copies: no allocation per frame. A copy that cannot be made (output port
 *    gone, no socket for the RSPAN encap) is counted `dropped` on its mirror;
 *    one the device refuses is `tx-full` like any other frame.
 *  - Dry runs (trace) make no copies.
 */
import type { PacketBatch } from '@dvs/netdev';
import {
  formatMac,
  isValidMac,
  isValidVlanId,
  isValidVni,
  mirrorConfigProblem,
  type Encap,
  type MirrorCounters,
  type MirrorDirection,
  type MirrorView,
} from '@dvs/wire';
import type { Vtep } from './control-surface.js';
import { DataPathError } from './data-path-error.js';
import { macHigh, macLow } from './fdb.js';
import { FrameCopier } from './frame-copy.js';
import { macHighAt, macLowAt } from './frame-read.js';
import type { Peer } from './peer.js';
import { pushSlotTunnelHeader, pushSlotVlanTag } from './slot-headers.js';
import { HEADROOM, setDestination, type SocketTarget } from './pipeline-io.js';
import type { Port } from './port.js';

export type { MirrorCounters, MirrorDirection, MirrorView };

/** Where a mirror's copies go: a local port (SPAN) or a VTEP inside a mirror VNI (RSPAN). */
export type MirrorOutputSpec = { port: string } | { vni: number; encap: Encap; vtep: Vtep };

export interface MirrorSpec {
  name: string;
  sourcePorts: readonly string[];
  sourceVnis: readonly number[];
  direction: MirrorDirection;
  /** MACs as 48-bit numbers. */
  srcMac?: number;
  dstMac?: number;
  vlan?: number;
  /** 1-in-N sampling; 1 (the default): every frame. */
  sampleEvery?: number;
  output: MirrorOutputSpec;
}

/** The receive side of RSPAN: tunnel packets of the mirror VNI `vni` are handed, decapsulated, to `port`. */
export interface MirrorSinkSpec {
  vni: number;
  port: string;
}

export interface MirrorConfig {
  mirrors: readonly MirrorSpec[];
  sinks: readonly MirrorSinkSpec[];
}

/** One mirror, resolved against the data path's ports, sockets and peers. */
export class MirrorRule {
  readonly counters: MirrorCounters = { mirrored: 0, mirroredBytes: 0, dropped: 0 };
  /** SPAN: the output port (null while it is absent). */
  outPort: Port | null = null;
  /** RSPAN: the VTEP and the encap's socket (null while there is none). */
  outPeer: Peer | null = null;
  outTarget: SocketTarget | null = null;
  private readonly srcHigh: number;
  private readonly srcLow: number;
  private readonly dstHigh: number;
  private readonly dstLow: number;
  private readonly vlan: number;
  private readonly every: number;
  private seen = 0;

  constructor(readonly spec: MirrorSpec) {
    this.srcHigh = spec.srcMac === undefined ? -1 : macHigh(spec.srcMac);
    this.srcLow = spec.srcMac === undefined ? -1 : macLow(spec.srcMac);
    this.dstHigh = spec.dstMac === undefined ? -1 : macHigh(spec.dstMac);
    this.dstLow = spec.dstMac === undefined ? -1 : macLow(spec.dstMac);
    this.vlan = spec.vlan ?? -1;
    this.every = spec.sampleEvery ?? 1;
  }

  /** Whether the frame at `off` (untagged; `vlan` its tag on the source port, -1: none) is copied; counts sampling. */
  selects(buf: Uint8Array, off: number, vlan: number): boolean {
    if (this.srcHigh >= 0 && (macLowAt(buf, off + 6) !== this.srcLow || macHighAt(buf, off + 6) !== this.srcHigh))
      return false;
    if (this.dstHigh >= 0 && (macLowAt(buf, off) !== this.dstLow || macHighAt(buf, off) !== this.dstHigh)) return false;
    if (this.vlan >= 0 && vlan !== this.vlan) return false;
    if (this.every > 1) {
      if (++this.seen < this.every) return false;
      this.seen = 0;
    }
    return true;
  }
}

/** The mirrors of a data path, indexed by what selects them. Rebuilt on every change; read per frame. */
export class MirrorTable {
  /** False while no mirror is set: the pipeline then skips every lookup. */
  active = false;
  rules: MirrorRule[] = [];
  sinkSpecs: MirrorSinkSpec[] = [];
  readonly portIngress = new Map<Port, MirrorRule[]>();
  readonly portEgress = new Map<Port, MirrorRule[]>();
  readonly vniIngress = new Map<number, MirrorRule[]>();
  readonly vniEgress = new Map<number, MirrorRule[]>();
  /** RSPAN receive side: mirror VNI → analyser port. */
  readonly sinks = new Map<number, Port>();
  /** Copies delivered to each sink port. */
  readonly sinkCounters = new Map<number, MirrorCounters>();
  private readonly outputs = new Set<Port>();
  private readonly copier = new FrameCopier();

  /**
   * Replaces the configuration. Copies counted so far stay with mirrors of the
   * same name. `resolve` binds names to the data path's objects.
   */
  set(config: MirrorConfig, resolve: MirrorResolver): void {
    const before = new Map(this.rules.map((r) => [r.spec.name, r.counters]));
    this.rules = config.mirrors.map((spec) => {
      const rule = new MirrorRule(spec);
      const kept = before.get(spec.name);
      if (kept !== undefined) Object.assign(rule.counters, kept);
      return rule;
    });
    const sinkBefore = new Map(this.sinkCounters);
    this.sinkCounters.clear();
    this.sinkSpecs = [...config.sinks];
    for (const s of this.sinkSpecs)
      this.sinkCounters.set(s.vni, sinkBefore.get(s.vni) ?? { mirrored: 0, mirroredBytes: 0, dropped: 0 });
    this.rebind(resolve);
  }

  /** Binds names to ports, peers and sockets again (a port came or went). */
  rebind(resolve: MirrorResolver): void {
    for (const m of [this.portIngress, this.portEgress, this.vniIngress, this.vniEgress] as Map<unknown, unknown>[])
      m.clear();
    this.sinks.clear();
    this.outputs.clear();
    for (const rule of this.rules) {
      const spec = rule.spec;
      const out = spec.output;
      if ('port' in out) {
        rule.outPort = resolve.port(out.port) ?? null;
        if (rule.outPort !== null) this.outputs.add(rule.outPort);
      } else {
        if (rule.outPeer !== null) resolve.releasePeer(rule.outPeer);
        rule.outPeer = resolve.acquirePeer(out.vtep);
        rule.outTarget = resolve.socket(out.encap) ?? null;
      }
      const ingress = spec.direction !== 'egress';
      const egress = spec.direction !== 'ingress';
      for (const name of spec.sourcePorts) {
        const port = resolve.port(name);
        if (port === undefined) continue;
        if (ingress) listIn(this.portIngress, port).push(rule);
        if (egress) listIn(this.portEgress, port).push(rule);
      }
      for (const vni of spec.sourceVnis) {
        if (ingress) listIn(this.vniIngress, vni).push(rule);
        if (egress) listIn(this.vniEgress, vni).push(rule);
      }
    }
    for (const s of this.sinkSpecs) {
      const port = resolve.port(s.port);
      if (port === undefined) continue;
      this.sinks.set(s.vni, port);
      this.outputs.add(port);
    }
    this.active = this.rules.length > 0 || this.sinkSpecs.length > 0;
  }

  /** Whether `port` is an output (SPAN) or an analyser port (RSPAN sink): it is not switched. */
  isOutput(port: Port): boolean {
    return this.outputs.has(port);
  }

  /** Counts a copy handed to the analyser port of mirror VNI `vni`. */
  delivered(vni: number, bytes: number): void {
    const c = this.sinkCounters.get(vni);
    if (c === undefined) return;
    c.mirrored++;
    c.mirroredBytes += bytes;
  }

  /** The names of every output port (SPAN outputs and RSPAN sinks): these are not switched. */
  outputPortNames(): Set<string> {
    const names = new Set<string>();
    for (const r of this.rules) if ('port' in r.spec.output) names.add(r.spec.output.port);
    for (const s of this.sinkSpecs) names.add(s.port);
    return names;
  }

  /**
   * Copies frame `i` of `batch` (untagged, at its offset) to the output of
   * each rule of `rules` (but those of `except`) that selects it; `vlan` is its tag on the source
   * port (-1: none), pushed onto the copy. `alloc` hands out a copy slot.
   */
  copy(
    rules: MirrorRule[],
    except: MirrorRule[] | null,
    batch: PacketBatch,
    i: number,
    vlan: number,
    copyBatch: PacketBatch,
    alloc: () => number,
  ): void {
    const buf = batch.buffer;
    const off = batch.start(i);
    for (let k = 0; k < rules.length; k++) {
      const rule = rules[k];
      if (except !== null && except.includes(rule)) continue;
      if (!rule.selects(buf, off, vlan)) continue;
      const port = rule.outPort;
      const target = rule.outTarget;
      if (port !== null ? !port.up : target === null || rule.outPeer === null) {
        rule.counters.dropped++;
        continue;
      }
      const c = alloc();
      this.copier.copy(batch, i, copyBatch, c, HEADROOM);
      if (vlan >= 0 && !pushSlotVlanTag(copyBatch, c, vlan)) {
        rule.counters.dropped++;
        continue;
      }
      rule.counters.mirrored++;
      rule.counters.mirroredBytes += copyBatch.lengths[c];
      if (port !== null) {
        port.tx.addCopy(c, null);
        continue;
      }
      const out = rule.spec.output as { vni: number; encap: Encap };
      const peer = rule.outPeer as Peer;
      pushSlotTunnelHeader(copyBatch, c, out.encap, out.vni);
      setDestination(copyBatch, c, peer);
      (target as SocketTarget).tx.addCopy(c, peer);
    }
  }

  /** Releases the RSPAN peers (the configuration is about to be replaced or dropped). */
  release(resolve: MirrorResolver): void {
    for (const rule of this.rules) {
      if (rule.outPeer !== null) resolve.releasePeer(rule.outPeer);
      rule.outPeer = null;
    }
  }
}

/** How the mirror table finds the data path's objects by name. */
export interface MirrorResolver {
  port(name: string): Port | undefined;
  socket(encap: Encap): SocketTarget | undefined;
  acquirePeer(vtep: Vtep): Peer | null;
  releasePeer(peer: Peer): void;
}

function listIn<K>(map: Map<K, MirrorRule[]>, key: K): MirrorRule[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/**
 * Throws DataPathError (DVS_BAD_ARGUMENT) naming the field when `config` is
 * not a valid mirror configuration for a data path whose networks are
 * `networkVnis`: the rules shared with the controller (wire's
 * mirrorConfigProblem), plus a mirror VNI that is a network here.
 */
export function checkMirrorConfig(config: MirrorConfig, networkVnis: ReadonlySet<number>): void {
  const bad = (field: string, why: string): DataPathError => new DataPathError('DVS_BAD_ARGUMENT', `${field}: ${why}`);
  config.mirrors.forEach((m, k) => {
    const at = `mirrors[${k}]`;
    if (m.srcMac !== undefined && !isValidMac(m.srcMac)) throw bad(`${at}.srcMac`, 'not a MAC address');
    if (m.dstMac !== undefined && !isValidMac(m.dstMac)) throw bad(`${at}.dstMac`, 'not a MAC address');
    if (m.vlan !== undefined && !isValidVlanId(m.vlan)) throw bad(`${at}.vlan`, `must be 1..4094, got ${m.vlan}`);
    if (!('port' in m.output) && networkVnis.has(m.output.vni))
      throw bad(`${at}.output.vni`, `VNI ${m.output.vni} is a network here: a mirror VNI carries only copies`);
  });
  config.sinks.forEach((s, k) => {
    if (!isValidVni(s.vni)) throw bad(`sinks[${k}].vni`, `must be 1..16777215, got ${s.vni}`);
    if (networkVnis.has(s.vni))
      throw bad(`sinks[${k}].vni`, `VNI ${s.vni} is a network here: a mirror VNI carries only copies`);
  });
  const problem = mirrorConfigProblem(
    config.mirrors.map((m) => ({
      name: m.name,
      sources: m.sourcePorts,
      sourceVnis: m.sourceVnis,
      direction: m.direction,
      sampleEvery: m.sampleEvery ?? 1,
      output: 'port' in m.output ? m.output.port : null,
      vni: 'port' in m.output ? null : m.output.vni,
    })),
    config.sinks.map((s) => s.port),
  );
  if (problem !== null) throw bad(problem.field, problem.message);
}

/** The text of a MAC filter for views. */
export function macFilterText(mac: number | undefined): string | null {
  return mac === undefined ? null : formatMac(mac);
}

/** A mirror as `mirrors/show` and the controller's views show it (wire: MirrorView). */
export function describeMirrors(table: MirrorTable): MirrorView[] {
  const views: MirrorView[] = table.rules.map((rule) => {
    const s = rule.spec;
    const out = s.output;
    return {
      name: s.name,
      sourcePorts: [...s.sourcePorts],
      sourceVnis: [...s.sourceVnis],
      direction: s.direction,
      srcMac: macFilterText(s.srcMac),
      dstMac: macFilterText(s.dstMac),
      vlan: s.vlan ?? null,
      sampleEvery: s.sampleEvery ?? 1,
      output:
        'port' in out
          ? { kind: 'port', port: out.port, present: rule.outPort !== null }
          : { kind: 'rspan', vni: out.vni, encap: out.encap, vtep: `${out.vtep.address}:${out.vtep.port}` },
      ...rule.counters,
    };
  });
  for (const s of table.sinkSpecs) {
    const c = table.sinkCounters.get(s.vni) ?? { mirrored: 0, mirroredBytes: 0, dropped: 0 };
    views.push({
      name: `rspan-${s.vni}`,
      sourcePorts: [],
      sourceVnis: [],
      direction: 'both',
      srcMac: null,
      dstMac: null,
      vlan: null,
      sampleEvery: 1,
      output: { kind: 'sink', vni: s.vni, port: s.port, present: table.sinks.has(s.vni) },
      ...c,
    });
  }
  return views;
}

/** Counters per mirror, for counters/show and the metrics. */
export function mirrorCounters(table: MirrorTable): Record<string, MirrorCounters> {
  const out: Record<string, MirrorCounters> = {};
  for (const v of describeMirrors(table))
    out[v.name] = { mirrored: v.mirrored, mirroredBytes: v.mirroredBytes, dropped: v.dropped };
  return out;
}
