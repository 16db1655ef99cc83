import type { FrameDevice } from '@dvs/netdev';
import type { AgentNetworkRow, VniDigest, VtepRecord } from '@dvs/wire';
import type { ApplyResult, NetworkSpec, TableChange } from '../datapath/control-surface.js';
import { newDropCounters, type CountersSnapshot, type TrafficCounters } from '../datapath/counters.js';
import type { PortSpec } from '../datapath/port.js';
import type { ProbeHandler, ProbeTarget } from '../datapath/probe.js';
import type { TraceQuery, TraceReport } from '../datapath/trace.js';
import { TypedEmitter } from '../datapath/typed-emitter.js';
import type { FdbEntryView, PeerView, PortView } from '../datapath/views.js';
import type { LearnConflictView } from '../datapath/provisional-moves.js';
import type { PolicerSpec } from '../datapath/token-bucket.js';
import type { MirrorConfig, MirrorView } from '../datapath/mirror.js';
import { servedBy, type ServedBy, type VxlanOwner } from './datapath-choice.js';
import { ProviderError } from './provider-error.js';
import type {
  DatapathChoice,
  DatapathKind,
  DatapathEventArgs,
  DatapathOperations,
  DatapathProvider,
  NetworkPlacement,
  PortDeviceUse,
} from './provider.js';

/** A network view with the provider that serves it and why (the networks/show reply). */
export type PlacedNetworkView = AgentNetworkRow;

export interface DatapathsOptions {
  userspace: DatapathProvider;
  /** null: the kernel provider is not running on this host (then the VXLAN owner is userspace). */
  kernel: DatapathProvider | null;
  vxlanOwner: VxlanOwner;
  /**
   * The provider this agent's config names for a network (undefined: the
   * config does not name the network, or says auto). It wins over the
   * network record's `datapath`.
   */
  networkChoice(vni: number): DatapathChoice | undefined;
}

/**
 * The agent's one datapath: both providers behind the provider operations,
 * every call routed by VNI to the provider that serves the network
 * (datapath-choice.ts decides, once per network:set). apply() stays whole or
 * nothing across the two: the kernel's part is checked first, then the
 * userspace part applied (it validates itself), then the kernel's part.
 *
 * Ports go where their network is; a port whose network is not known yet
 * goes to the host's VXLAN owner. When a network:set moves a VNI to the
 * other provider (its encap changed), the ports on it get a `port:gone`
 * (code DVS_PROVIDER_CHANGED) so that their owner opens them again, for the
 * new provider. Trunk ports are userspace only (no VLAN filtering in the
 * kernel bridge here).
 */
export class Datapaths extends TypedEmitter<DatapathEventArgs> implements DatapathOperations {
  private readonly placements = new Map<number, NetworkPlacement>();
  private readonly portHome = new Map<string, { provider: DatapathProvider; spec: PortSpec }>();
  private lastProbeProvider: DatapathProvider | null = null;

  constructor(private readonly o: DatapathsOptions) {
    super();
    for (const p of this.providers()) {
      p.on('mac:local', (e) => this.emitToEach('mac:local', e));
      p.on('mac:gone', (e) => this.emitToEach('mac:gone', e));
      p.on('mac:move', (e) => this.emitToEach('mac:move', e));
      p.on('port:gone', (e) => this.emitToEach('port:gone', e));
      p.on('mac:conflict', (e) => this.emitToEach('mac:conflict', e));
      p.on('ip:bound', (e) => this.emitToEach('ip:bound', e));
    }
  }

  get vxlanOwner(): VxlanOwner {
    return this.o.vxlanOwner;
  }

  get kernel(): DatapathProvider | null {
    return this.o.kernel;
  }

  get userspace(): DatapathProvider {
    return this.o.userspace;
  }

  /** Which provider serves each network, and why. */
  networkPlacements(): NetworkPlacement[] {
    return [...this.placements.values()].sort((a, b) => a.vni - b.vni);
  }

  placementOf(vni: number): NetworkPlacement | undefined {
    return this.placements.get(vni);
  }

  // ---- control surface -------------------------------------------------------

  apply(changes: readonly TableChange[]): ApplyResult {
    const parts = new Map<DatapathProvider, { changes: TableChange[]; index: number[] }>();
    const part = (p: DatapathProvider): { changes: TableChange[]; index: number[] } => {
      let x = parts.get(p);
      if (x === undefined) parts.set(p, (x = { changes: [], index: [] }));
      return x;
    };
    const batchHome = new Map<number, NetworkPlacement | null>();
    const homeOf = (vni: number): NetworkPlacement | undefined => {
      const b = batchHome.get(vni);
      return b === null ? undefined : (b ?? this.placements.get(vni));
    };
    const moved: number[] = [];
    changes.forEach((change, index) => {
      const vni = vniOf(change);
      if (change?.kind === 'network:set' && vni !== undefined) {
        const placement = this.place(change.network);
        const before = homeOf(vni);
        if (before !== undefined && before.provider !== placement.provider) {
          // The network changes provider: it leaves the old one in the same batch.
          const old = part(this.provider(before.provider));
          old.changes.push({ kind: 'network:del', vni });
          old.index.push(index);
          moved.push(vni);
        }
        batchHome.set(vni, { vni, provider: placement.provider, reason: placement.reason });
        const p = part(this.provider(placement.provider));
        p.changes.push(change);
        p.index.push(index);
        return;
      }
      const home = vni === undefined ? undefined : homeOf(vni);
      if (change?.kind === 'network:del' && vni !== undefined) batchHome.set(vni, null);
      // An unknown VNI goes to userspace, which refuses it with the usual reason.
      const p = part(home === undefined ? this.o.userspace : this.provider(home.provider));
      p.changes.push(change);
      p.index.push(index);
    });
    const kernelPart = this.o.kernel === null ? undefined : parts.get(this.o.kernel);
    if (kernelPart !== undefined && this.o.kernel !== null) {
      const bad = this.o.kernel.check(kernelPart.changes);
      if (bad.length > 0)
        return { applied: 0, rejected: bad.map((r) => ({ ...r, index: kernelPart.index[r.index]! })) };
    }
    const userPart = parts.get(this.o.userspace);
    if (userPart !== undefined) {
      const result = this.o.userspace.apply(userPart.changes);
      if (result.rejected.length > 0)
        return { applied: 0, rejected: result.rejected.map((r) => ({ ...r, index: userPart.index[r.index]! })) };
    }
    if (kernelPart !== undefined) this.o.kernel?.apply(kernelPart.changes);
    for (const [vni, placement] of batchHome) {
      if (placement === null) this.placements.delete(vni);
      else this.placements.set(vni, placement);
    }
    for (const vni of moved) this.portsMoved(vni);
    return { applied: changes.length, rejected: [] };
  }

  // ---- life ------------------------------------------------------------------

  start(): void {
    for (const p of this.providers()) p.start();
  }

  stop(): void {
    for (const p of this.providers()) p.stop();
  }

  tablesLoaded(): void {
    for (const p of this.providers()) p.tablesLoaded();
  }

  // ---- ports -----------------------------------------------------------------

  portDeviceUse(spec: PortSpec): PortDeviceUse {
    return this.homeFor(spec).portDeviceUse(spec);
  }

  addPort(spec: PortSpec, device: FrameDevice, counters?: TrafficCounters): void {
    if (this.portHome.has(spec.name)) throw new ProviderError('DVS_PORT_EXISTS', `port ${spec.name} already exists`);
    const provider = this.homeFor(spec);
    provider.addPort(spec, device, counters);
    this.portHome.set(spec.name, { provider, spec });
  }

  removePort(name: string): FrameDevice {
    const home = this.portHome.get(name);
    if (home === undefined) return this.o.userspace.removePort(name);
    const device = home.provider.removePort(name);
    this.portHome.delete(name);
    return device;
  }

  hasPort(name: string): boolean {
    return this.portHome.has(name);
  }

  addStaticLocal(vni: number, mac: number, portName: string): void {
    (this.portHome.get(portName)?.provider ?? this.o.userspace).addStaticLocal(vni, mac, portName);
  }

  injectFrame(portName: string, frame: Uint8Array): void {
    (this.portHome.get(portName)?.provider ?? this.o.userspace).injectFrame(portName, frame);
  }

  // ---- tables and views ------------------------------------------------------

  hasNetwork(vni: number): boolean {
    return this.placements.has(vni);
  }

  fdbEntries(vni?: number): FdbEntryView[] {
    if (vni !== undefined) return this.byVni(vni).fdbEntries(vni);
    return this.providers().flatMap((p) => p.fdbEntries());
  }

  flushFdb(vni?: number): number {
    if (vni !== undefined) return this.byVni(vni).flushFdb(vni);
    return this.providers().reduce((n, p) => n + p.flushFdb(), 0);
  }

  portViews(): PortView[] {
    return this.providers()
      .flatMap((p) => p.portViews())
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  peerViews(): PeerView[] {
    const byVtep = new Map<string, PeerView>();
    for (const v of this.providers().flatMap((p) => p.peerViews())) {
      const seen = byVtep.get(v.vtep);
      if (seen === undefined) byVtep.set(v.vtep, v);
      else
        byVtep.set(v.vtep, {
          ...seen,
          vnis: [...seen.vnis, ...v.vnis].sort((a, b) => a - b),
          floodVnis: [...seen.floodVnis, ...v.floodVnis].sort((a, b) => a - b),
          counters: addTraffic(seen.counters, v.counters),
        });
    }
    return [...byVtep.values()].sort((a, b) => a.vtep.localeCompare(b.vtep));
  }

  networkViews(): PlacedNetworkView[] {
    return this.providers()
      .flatMap((p) => p.networkViews())
      .map((n) => {
        const placement = this.placements.get(n.vni);
        return {
          ...n,
          provider: placement?.provider ?? 'userspace',
          providerReason: placement?.reason ?? '',
        };
      })
      .sort((a, b) => a.vni - b.vni);
  }

  counters(): CountersSnapshot {
    const all = this.providers().map((p) => p.counters());
    const drops = newDropCounters();
    for (const c of all) for (const [k, v] of Object.entries(c.drops)) drops[k as keyof typeof drops] += v;
    const first = all[0]!;
    return {
      drops,
      fdb: all.slice(1).reduce((acc, c) => {
        const sum = { ...acc, sizeByVni: { ...acc.sizeByVni, ...c.fdb.sizeByVni } };
        for (const key of Object.keys(c.fdb) as (keyof typeof c.fdb)[])
          if (key !== 'sizeByVni') sum[key] = acc[key] + c.fdb[key];
        return sum;
      }, first.fdb),
      portSecurity: Object.assign({}, ...all.map((c) => c.portSecurity)) as CountersSnapshot['portSecurity'],
      ports: Object.assign({}, ...all.map((c) => c.ports)) as Record<string, TrafficCounters>,
      peers: all.slice(1).reduce((acc, c) => {
        const out = { ...acc };
        for (const [k, v] of Object.entries(c.peers)) out[k] = out[k] === undefined ? v : addTraffic(out[k], v);
        return out;
      }, first.peers),
      rejectedChanges: all.reduce((n, c) => n + c.rejectedChanges, 0),
      internalErrors: all.reduce((n, c) => n + c.internalErrors, 0),
      listenerErrors: all.reduce((n, c) => n + c.listenerErrors, 0),
      mirrors: Object.assign({}, ...all.map((c) => c.mirrors ?? {})) as CountersSnapshot['mirrors'],
    };
  }

  trace(query: TraceQuery): TraceReport {
    return this.byVni(query.vni).trace(query);
  }

  /**
   * Port mirrors are the userspace pipeline's: ports on the kernel datapath
   * are not bound as sources or outputs (mirror.ts binds names it finds).
   */
  setMirrors(config: MirrorConfig): void {
    this.o.userspace.setMirrors?.(config);
  }

  mirrorViews(): MirrorView[] {
    return this.o.userspace.mirrorViews?.() ?? [];
  }

  setPortPolicer(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    const home = this.portHome.get(name);
    if (home === undefined) throw new ProviderError('DVS_PORT_NOT_FOUND', `no port ${name}`);
    home.provider.setPortPolicer(name, direction, spec);
  }

  /** The digests of the VNI's tables in the provider that serves it (the kernel provider reads them from the kernel). */
  tableDigest(vni: number): VniDigest | null {
    return this.byVni(vni).tableDigest?.(vni) ?? null;
  }

  controlEntries(vni: number): Map<string, VtepRecord> | null {
    return this.byVni(vni).controlEntries?.(vni) ?? null;
  }

  learnConflicts(windowMs?: number): LearnConflictView[] {
    return this.providers().flatMap((p) => p.learnConflicts(windowMs));
  }

  setControlPlaneUp(up: boolean): void {
    for (const p of this.providers()) p.setControlPlaneUp(up);
  }

  // ---- tunnel health ---------------------------------------------------------

  setProbeHandler(handler: ProbeHandler | null): void {
    for (const p of this.providers()) p.setProbeHandler(handler);
  }

  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean {
    const p = this.byVni(target.vni);
    this.lastProbeProvider = p;
    return p.sendProbe(target, frame);
  }

  lastProbeSendError(): string | null {
    return this.lastProbeProvider?.lastProbeSendError() ?? null;
  }

  // ---- internals -------------------------------------------------------------

  private providers(): DatapathProvider[] {
    return this.o.kernel === null ? [this.o.userspace] : [this.o.userspace, this.o.kernel];
  }

  private provider(kind: DatapathKind): DatapathProvider {
    if (kind === 'kernel' && this.o.kernel !== null) return this.o.kernel;
    return this.o.userspace;
  }

  private byVni(vni: number): DatapathProvider {
    const placement = this.placements.get(vni);
    return placement === undefined ? this.o.userspace : this.provider(placement.provider);
  }

  /**
   * The agent's config was checked against the rule before start, so a
   * network's ask that this host cannot meet comes from the controller: the
   * network is served where it can be, the reason saying what was asked and
   * why not (servedBy), rather than refused with its whole batch.
   */
  private place(network: NetworkSpec): ServedBy {
    const datapath = this.o.networkChoice(network.vni) ?? network.datapath ?? 'auto';
    return servedBy({ vni: network.vni, encap: network.encap, datapath }, this.o.vxlanOwner);
  }

  /** The provider a port goes to: its network's; trunks are userspace only. */
  private homeFor(spec: PortSpec): DatapathProvider {
    if (spec.mode === 'access') {
      const placement = this.placements.get(spec.vni);
      return this.provider(placement?.provider ?? this.o.vxlanOwner.provider);
    }
    for (const vni of spec.vlans.values()) {
      if (this.placements.get(vni)?.provider === 'kernel')
        throw new ProviderError(
          'DVS_DATAPATH_UNSUPPORTED',
          `trunk port ${spec.name} maps VNI ${vni}, which the kernel datapath serves: a kernel bridge here has no VLAN filtering; give the VM one access port per VNI, or run the network in userspace`,
        );
    }
    return this.o.userspace;
  }

  /** The ports of a VNI that changed provider are opened again (their owner hears port:gone). */
  private portsMoved(vni: number): void {
    for (const [name, home] of this.portHome) {
      const vnis = home.spec.mode === 'access' ? [home.spec.vni] : [...home.spec.vlans.values()];
      if (!vnis.includes(vni)) continue;
      this.emitToEach('port:gone', {
        port: name,
        code: 'DVS_PROVIDER_CHANGED',
        message: `network ${vni} moved to the ${this.placements.get(vni)?.provider ?? 'userspace'} datapath`,
      });
    }
  }
}

function vniOf(change: TableChange): number | undefined {
  if (typeof change !== 'object' || change === null) return undefined;
  if (change.kind === 'network:set') return (change.network as NetworkSpec | undefined)?.vni;
  return (change as { vni?: number }).vni;
}

function addTraffic(a: TrafficCounters, b: TrafficCounters): TrafficCounters {
  return {
    rxFrames: a.rxFrames + b.rxFrames,
    rxBytes: a.rxBytes + b.rxBytes,
    txFrames: a.txFrames + b.txFrames,
    txBytes: a.txBytes + b.txBytes,
    txDrops: a.txDrops + b.txDrops,
  };
}
