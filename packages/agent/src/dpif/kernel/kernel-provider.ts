import {
  PacketBatch,
  isDvsLink,
  parseDvsLinkName,
  type FdbChange,
  type FdbEntry,
  type FdbMonitor,
  type FrameDevice,
  type IpNeighbourChange,
  type NeighbourSnooper,
  type Rtnetlink,
} from '@dvs/netdev';
import { readMac, type VniDigest, type VtepRecord } from '@dvs/wire';
import type {
  ApplyResult,
  DataPathEvents,
  NetworkSpec,
  RejectedChange,
  TableChange,
} from '../../datapath/control-surface.js';
import type { CountersSnapshot } from '../../datapath/counters.js';
import { isEmptyPortSecurity } from '../../datapath/port-security.js';
import type { PortSpec } from '../../datapath/port.js';
import type { ProbeHandler, ProbeTarget } from '../../datapath/probe.js';
import { checkBatch } from '../check-batch.js';
import type { TraceQuery, TraceReport } from '../../datapath/trace.js';
import { TypedEmitter } from '../../datapath/typed-emitter.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from '../../datapath/views.js';
import type { LearnConflictView } from '../../datapath/provisional-moves.js';
import { silentLogger, type Logger } from '../../observe/logger.js';
import { ProviderError } from '../provider-error.js';
import type { PolicerSpec } from '../../datapath/token-bucket.js';
import type { DatapathEventArgs, DatapathProvider, PortDeviceUse } from '../provider.js';
import { KernelNetwork, vtepId, type KernelPort } from './kernel-network.js';
import type { KernelProbes } from './kernel-probes.js';
import { traceKernel } from './kernel-trace.js';
import { makeKernelDevices, setKernelMtu } from './kernel-devices.js';
import {
  kernelCounters,
  kernelFdbEntries,
  kernelNetworkViews,
  kernelPeerViews,
  kernelPortViews,
  type KernelViewSource,
} from './kernel-views.js';
import { kernelDigest, kernelTables, type KernelTables } from './kernel-digest.js';
import { bindingInFrame } from './kernel-bindings.js';
import { NftPortSecurity, allowsBinding, type NftRunner, type SecuredPort } from './kernel-port-security.js';

/** The kernel I/O the provider drives: one rtnetlink socket and one FDB monitor (bridge tables), in the agent's namespace. */
export interface KernelIo {
  rtnl: Rtnetlink;
  monitor: FdbMonitor;
  /** A device to send frames out of a bridge (an AF_PACKET socket on it): ports/announce floods through it. */
  openSender(name: string): Promise<FrameDevice>;
  /** The ARP/ND frames of the namespace's interfaces: local IP bindings (absent: none are learned). */
  snooper?: NeighbourSnooper;
  /** Runs `nft` (port security in a bridge-family table); absent: ports with security are refused. */
  nft?: NftRunner;
  /** Lets a bridge hold IPv6 neighbour entries (ND suppression) without an address of its own; false: no IPv6 here. */
  enableIpv6Neighbours?(bridge: string): boolean;
}

export interface KernelProviderOptions {
  io: KernelIo;
  host: string;
  /** The VTEP: local address of every vxlan device and its UDP port. */
  vtep: { address: string; port: number };
  /** How long the bridges keep a learned local MAC without traffic. */
  agingSeconds: number;
  /** Tunnel probes on their own UDP port (the vxlan devices own the VXLAN port); null: no probes. */
  probes?: KernelProbes | null;
  logger?: Logger;
}

/**
 * The kernel provider: Linux's bridge and vxlan devices forward, this process
 * only programs them (rtnetlink) and watches them (the FDB monitor).
 *
 *   port (TAP, veth, macvlan) ─► bridge dvsbr<vni> ─► local port
 *                                   │ unknown/BUM, or a MAC the bridge does not hold
 *                                   ▼
 *                               vxlan dvsvx<vni> (nolearning, local VTEP, port 4789)
 *                                   ─► static FDB entry MAC → remote VTEP (from the controller)
 *                                   ─► all-zeros entries: one copy per flood-list VTEP
 *
 * Remote MACs follow the control plane only (the vxlan device does not learn
 * and its bridge port does not either, as in EVPN). Local MACs are what the
 * bridge learns on our ports: the FDB monitor's `fdb:add`/`fdb:del` become
 * `mac:local`/`mac:gone`. Devices carry dvs's mark (alias `dvs:…`); a
 * restarted agent adopts them, and after the tables are loaded removes the
 * devices and entries no table names. stop() leaves everything in place: the
 * kernel keeps forwarding on the last tables while the agent is away.
 */
export class KernelProvider extends TypedEmitter<DatapathEventArgs> implements DatapathProvider {
  readonly kind = 'kernel' as const;
  /** rtnetlink requests the kernel refused (logged; the tables keep what was asked for). */
  kernelErrors = 0;
  rejectedChanges = 0;
  listenerErrors = 0;
  private readonly networks = new Map<number, KernelNetwork>();
  private readonly ports = new Map<string, KernelPort>();
  private readonly logger: Logger;
  private readonly rtnl: Rtnetlink;
  private readonly monitor: FdbMonitor;
  private readonly security: NftPortSecurity | null;
  private probes: KernelProbes | null;
  private probeHandler: ProbeHandler | null = null;
  private watching = false;
  private readonly onAdd = (entry: FdbEntry, previous: FdbEntry | undefined): void => this.fdbAdded(entry, previous);
  private readonly onDel = (entry: FdbEntry): void => this.fdbDeleted(entry);
  private readonly onResync = (): void => this.resyncLocal();
  private readonly onSnooped = (ifindex: number, frame: Buffer): void => this.snooped(ifindex, frame);

  private readonly viewSource: KernelViewSource;

  constructor(private readonly o: KernelProviderOptions) {
    super();
    this.logger = o.logger ?? silentLogger;
    this.rtnl = o.io.rtnl;
    this.monitor = o.io.monitor;
    this.security = o.io.nft === undefined ? null : new NftPortSecurity(o.io.nft);
    this.probes = o.probes ?? null;
    this.viewSource = {
      networks: this.networks,
      ports: this.ports,
      vtepPort: o.vtep.port,
      rtnl: this.rtnl,
      kernelFdb: (net) => this.kernelFdb(net),
      securityDrops: () => this.securityDrops(),
      errors: () => ({
        rejectedChanges: this.rejectedChanges,
        kernelErrors: this.kernelErrors,
        listenerErrors: this.listenerErrors,
      }),
    };
  }

  // ---- control surface -------------------------------------------------------

  check(changes: readonly TableChange[]): RejectedChange[] {
    const rejected = checkBatch(changes, new Set(this.networks.keys()), (change) =>
      change.kind === 'network:set' && !this.networks.has(change.network.vni)
        ? this.foreignDevice(change.network.vni)
        : null,
    );
    this.rejectedChanges += rejected.length;
    return rejected;
  }

  apply(changes: readonly TableChange[]): ApplyResult {
    const rejected = this.check(changes);
    if (rejected.length > 0) return { applied: 0, rejected };
    const fdb: FdbChange[] = [];
    const neigh: IpNeighbourChange[] = [];
    for (const change of changes) {
      switch (change.kind) {
        case 'network:set':
          this.setNetwork(change.network, fdb, neigh);
          break;
        case 'network:del':
          this.deleteNetwork(change.vni, fdb, neigh);
          break;
        case 'fdb:set': {
          const net = this.networks.get(change.vni) as KernelNetwork;
          const ips = change.ips ?? [];
          net.remote.set(change.mac, { vtep: change.vtep, seq: change.seq, static: change.static === true, ips });
          const local = net.local.get(change.mac);
          if (local !== undefined && change.seq <= local.seq) break; // our newer local entry keeps its place
          if (local !== undefined) this.displaceLocal(net, change.mac, local.port, vtepId(change.vtep), fdb, neigh);
          fdb.push(...net.remoteEntries(change.mac, change.vtep));
          net.bindings.setRemote(change.mac, ips, neigh);
          break;
        }
        case 'fdb:del': {
          const net = this.networks.get(change.vni) as KernelNetwork;
          if (!net.remote.delete(change.mac)) break;
          // A MAC that came here (a migration's destination) keeps its bridge entry on the local port,
          // but the vxlan device's entry towards its old VTEP goes too: the audit would see it, and the
          // MAC would be sent there once the bridge forgot the local entry.
          if (!net.local.has(change.mac)) fdb.push(...net.remoteDeletions(change.mac));
          else fdb.push(net.tunnelEntryDeletion(change.mac));
          net.bindings.dropMac(change.mac, 'remote', neigh);
          break;
        }
        case 'flood:set': {
          const net = this.networks.get(change.vni) as KernelNetwork;
          fdb.push(...net.floodChanges(net.flood, change.vteps));
          net.flood = [...change.vteps];
          break;
        }
        case 'peers:set':
          (this.networks.get(change.vni) as KernelNetwork).peers = [...change.vteps];
          break;
      }
    }
    this.program(fdb);
    this.programNeighbours(neigh);
    return { applied: changes.length, rejected: [] };
  }

  // ---- life ------------------------------------------------------------------

  /** Tunnel probes on their own port (the agent opens the socket at start). */
  attachProbes(probes: KernelProbes): void {
    this.probes = probes;
    // The health monitor may have registered its handler before the socket was there.
    this.setProbeHandler(this.probeHandler);
    if (this.watching) probes.start();
  }

  start(): void {
    if (this.watching) return;
    this.watching = true;
    this.monitor.on('fdb:add', this.onAdd);
    this.monitor.on('fdb:del', this.onDel);
    this.monitor.on('monitor:resync', this.onResync);
    this.o.io.snooper?.onFrame(this.onSnooped);
    this.resyncLocal();
    this.probes?.start();
  }

  /** Stops watching; the devices and their tables stay (the kernel keeps forwarding). */
  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    this.monitor.off('fdb:add', this.onAdd);
    this.monitor.off('fdb:del', this.onDel);
    this.monitor.off('monitor:resync', this.onResync);
    this.o.io.snooper?.onFrame(null);
    this.probes?.stop();
  }

  /** Closes the kernel I/O (after stop()). */
  close(): void {
    this.stop();
    this.probes?.close();
    this.o.io.snooper?.close();
    this.monitor.close();
    this.rtnl.close();
  }

  tablesLoaded(): void {
    // The nft table of an earlier run: rewritten for the ports there are now (removed when none has security).
    this.kernel('reconcile the port security table', () => this.applySecurity());
    try {
      this.removeStale();
    } catch (err) {
      this.kernelErrors++;
      this.logger.error('kernel datapath: removing stale devices and entries failed', {
        error: (err as Error).message,
      });
    }
  }

  // ---- ports -----------------------------------------------------------------

  portDeviceUse(): PortDeviceUse {
    return 'link';
  }

  addPort(spec: PortSpec, device: FrameDevice): void {
    if (this.ports.has(spec.name)) throw new ProviderError('DVS_PORT_EXISTS', `port ${spec.name} already exists`);
    if (spec.mode !== 'access')
      throw new ProviderError(
        'DVS_DATAPATH_UNSUPPORTED',
        `port ${spec.name}: the kernel datapath takes access ports only (no VLAN filtering in this kernel's bridge)`,
      );
    const link = this.rtnl.link(device.name);
    if (link === undefined)
      throw new ProviderError('DVS_PORT_NOT_FOUND', `port ${spec.name}: no device ${device.name} in this namespace`);
    const secured = !isEmptyPortSecurity(spec.security);
    if (secured && this.security === null)
      throw new ProviderError(
        'DVS_DATAPATH_UNSUPPORTED',
        `port ${spec.name} asks for port security, which the kernel datapath enforces with nft: install nftables (nft), or put its network on datapath: userspace`,
      );
    const port: KernelPort = { spec, device, ifindex: link.ifindex, enslaved: false };
    this.ports.set(spec.name, port);
    const net = this.networks.get(spec.vni);
    try {
      // The rules first (they match the device by name): the port never forwards unchecked.
      if (secured) this.applySecurity();
      if (net !== undefined && net.problem === null) this.enslave(port, net);
    } catch (err) {
      this.ports.delete(spec.name);
      if (secured) this.kernel('restore the port security table', () => this.applySecurity());
      throw err instanceof ProviderError
        ? err
        : new ProviderError('DVS_DATAPATH_UNSUPPORTED', `port ${spec.name}: ${(err as Error).message}`);
    }
  }

  removePort(name: string): FrameDevice {
    const port = this.ports.get(name);
    if (port === undefined) throw new ProviderError('DVS_PORT_NOT_FOUND', `no port ${name}`);
    this.ports.delete(name);
    const net = this.networks.get(port.spec.vni);
    if (net !== undefined) {
      const neigh: IpNeighbourChange[] = [];
      for (const [mac, local] of [...net.local])
        if (local.port === name) {
          net.local.delete(mac);
          net.bindings.dropMac(mac, 'local', neigh);
          this.emitEvent('mac:gone', { vni: net.vni, mac, port: name });
        }
      this.programNeighbours(neigh);
    }
    if (!isEmptyPortSecurity(port.spec.security)) this.kernel('update port security', () => this.applySecurity());
    if (port.enslaved) {
      try {
        this.rtnl.setLink(port.ifindex, { master: null });
      } catch {
        // The device went with its owner (a VM quit): nothing left to release.
      }
    }
    return port.device;
  }

  hasPort(name: string): boolean {
    return this.ports.has(name);
  }

  addStaticLocal(vni: number, mac: number, portName: string): void {
    const port = this.ports.get(portName);
    if (port === undefined) throw new ProviderError('DVS_PORT_NOT_FOUND', `no port ${portName}`);
    this.program([{ op: 'replace', device: port.ifindex, mac, table: 'master', state: 'static' }]);
    void vni;
  }

  /**
   * ports/announce (QEMU's RARP after a migration): the bridge is told the
   * frame's source MAC sits on the port, as its learning would on the frame
   * arriving there (the FDB monitor then reports it like any learned MAC),
   * and the frame is sent out of the bridge, which floods it to its other
   * ports and the vxlan device's flood list: peers that learn from the data
   * plane (a plain kernel vxlan host) re-point the MAC at once.
   */
  injectFrame(portName: string, frame: Uint8Array): void {
    const port = this.ports.get(portName);
    if (port === undefined) throw new ProviderError('DVS_PORT_NOT_FOUND', `no port ${portName}`);
    if (frame.length < 14) return;
    const src = readMac(frame, 6);
    this.program([{ op: 'replace', device: port.ifindex, mac: src, table: 'master', state: 'dynamic' }]);
    const net = this.networks.get(port.spec.vni);
    if (net !== undefined && net.problem === null) void this.flood(net.bridge, Buffer.from(frame));
  }

  // ---- views -----------------------------------------------------------------

  hasNetwork(vni: number): boolean {
    return this.networks.has(vni);
  }

  /** From the kernel: the bridge's entries on our ports and the vxlan device's unicast entries. */
  fdbEntries(vni?: number): FdbEntryView[] {
    return kernelFdbEntries(this.viewSource, vni);
  }

  flushFdb(vni?: number): number {
    const changes: FdbChange[] = [];
    for (const net of this.networks.values()) {
      if ((vni !== undefined && net.vni !== vni) || net.problem !== null) continue;
      for (const e of this.kernelFdb(net))
        if (e.table === 'master' && (e.state === 'dynamic' || e.state === 'stale'))
          changes.push({ op: 'del', device: e.ifindex, mac: e.mac, table: 'master' });
    }
    this.program(changes);
    return changes.length;
  }

  portViews(): PortView[] {
    return kernelPortViews(this.viewSource);
  }

  peerViews(): PeerView[] {
    return kernelPeerViews(this.viewSource);
  }

  networkViews(): NetworkView[] {
    return kernelNetworkViews(this.viewSource);
  }

  /** Port counters from the kernel's link stats, port security drops from nft; no per-VTEP counters. */
  counters(): CountersSnapshot {
    return kernelCounters(this.viewSource);
  }

  /** The digests of what the VNI's vxlan device holds now (kernel-digest.ts); null without such a network. */
  tableDigest(vni: number): VniDigest | null {
    const tables = this.heldTables(vni);
    return tables === null ? null : kernelDigest(vni, tables, this.networks.get(vni)!.peers);
  }

  /** The vxlan device's unicast entries as MAC text → VTEP (an audit's diff, `dvs audit --repair`). */
  controlEntries(vni: number): Map<string, VtepRecord> | null {
    return this.heldTables(vni)?.control ?? null;
  }

  /** The kernel learns nothing from tunnels (nolearning): remote MACs follow the controller only. */
  learnConflicts(): LearnConflictView[] {
    return [];
  }

  setControlPlaneUp(): void {
    // Nothing to decide: without learning from tunnels there is no provisional move.
  }

  /** QoS policers are the userspace pipeline's: a port on a kernel network has none. */
  setPortPolicer(name: string, _direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    if (spec === null) return;
    throw new ProviderError(
      'DVS_DATAPATH_UNSUPPORTED',
      `port ${name} is on the kernel datapath, which has no QoS policer here: put its network on datapath: userspace`,
    );
  }

  trace(query: TraceQuery): TraceReport {
    const net = this.networks.get(query.vni);
    const ports = [...this.ports.values()].filter((p) => p.enslaved && p.spec.vni === query.vni);
    return traceKernel(query, {
      network: net ?? null,
      entries: net === undefined || net.problem !== null ? [] : this.kernelFdb(net),
      ports: ports.map((p) => ({ name: p.spec.name, ifindex: p.ifindex })),
      mtu: net === undefined ? 0 : (this.rtnl.link(net.vxlan)?.mtu ?? net.spec.mtu),
      vtepPort: this.o.vtep.port,
    });
  }

  // ---- tunnel health ---------------------------------------------------------

  setProbeHandler(handler: ProbeHandler | null): void {
    this.probeHandler = handler;
    this.probes?.setHandler(
      handler === null
        ? null
        : (source, vni, frame) => {
            const net = this.networks.get(vni);
            if (net === undefined) return;
            // The peer as this VNI knows it (its VXLAN port), whatever port the probe came from.
            const known = [...net.peers, ...net.flood].find((v) => v.address === source.address);
            if (known !== undefined) handler(known, vni, frame);
          },
    );
  }

  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean {
    return this.probes?.send(target, frame) ?? false;
  }

  lastProbeSendError(): string | null {
    return this.probes === null ? 'ENOPROBESOCKET' : this.probes.lastSendError;
  }

  // ---- devices ---------------------------------------------------------------

  /** Why the VNI's device names are taken by someone else's devices, or null. */
  private foreignDevice(vni: number): string | null {
    const net = new KernelNetwork({ vni, encap: 'vxlan', mtu: 1500 });
    for (const name of [net.bridge, net.vxlan]) {
      const link = this.rtnl.link(name);
      if (link !== undefined && !isDvsLink(link))
        return `a device named ${name} exists that dvs did not make (no "dvs:" alias): delete or rename it`;
    }
    return null;
  }

  private setNetwork(spec: NetworkSpec, fdb: FdbChange[], neigh: IpNeighbourChange[]): void {
    const existing = this.networks.get(spec.vni);
    if (existing !== undefined) {
      const mtuChanged = existing.spec.mtu !== spec.mtu;
      const suppressionChanged = (existing.spec.arpSuppression === true) !== (spec.arpSuppression === true);
      existing.spec = { ...spec };
      if (mtuChanged && existing.problem === null) this.kernel('set MTU', () => this.setMtu(existing));
      if (suppressionChanged && existing.problem === null)
        this.kernel('set neigh_suppress', () =>
          this.rtnl.setLink(existing.vxlan, { bridgePort: { neighSuppress: spec.arpSuppression === true } }),
        );
      return;
    }
    const net = new KernelNetwork({ ...spec });
    this.networks.set(spec.vni, net);
    try {
      this.makeDevices(net);
    } catch (err) {
      this.kernelErrors++;
      net.problem = (err as Error).message;
      this.logger.error('kernel datapath: cannot make the devices of a network', { vni: spec.vni, error: net.problem });
      return;
    }
    fdb.push(...net.wantedEntries());
    neigh.push(...net.bindings.all());
    for (const port of this.ports.values())
      if (port.spec.vni === spec.vni && !port.enslaved) this.kernel('enslave a port', () => this.enslave(port, net));
  }

  private deleteNetwork(vni: number, fdb: FdbChange[], neigh: IpNeighbourChange[]): void {
    const net = this.networks.get(vni) as KernelNetwork;
    this.networks.delete(vni);
    for (const [mac, local] of net.local) this.emitEvent('mac:gone', { vni, mac, port: local.port });
    for (const port of this.ports.values()) if (port.spec.vni === vni) port.enslaved = false;
    // Pending FDB changes for its device go with it.
    for (let i = fdb.length - 1; i >= 0; i--) if (fdb[i]!.device === net.vxlan) fdb.splice(i, 1);
    for (let i = neigh.length - 1; i >= 0; i--) if (neigh[i]!.device === net.bridge) neigh.splice(i, 1);
    if (net.problem === null) {
      this.kernel('delete a vxlan device', () => this.rtnl.deleteLink(net.vxlan));
      this.kernel('delete a bridge', () => this.rtnl.deleteLink(net.bridge));
    }
  }

  /** Adopts the VNI's devices when they carry dvs's mark and match, else makes them (replacing a stale pair). */
  private makeDevices(net: KernelNetwork): void {
    makeKernelDevices(this.rtnl, net, { host: this.o.host, vtep: this.o.vtep, agingSeconds: this.o.agingSeconds });
    this.kernel('enable IPv6 neighbours on a bridge', () => this.o.io.enableIpv6Neighbours?.(net.bridge));
  }

  private setMtu(net: KernelNetwork): void {
    setKernelMtu(this.rtnl, net);
  }

  private enslave(port: KernelPort, net: KernelNetwork): void {
    this.rtnl.setLink(port.ifindex, { master: net.bridge, up: true, bridgePort: { learning: true } });
    port.enslaved = true;
    // MACs the bridge already holds on it (an agent restarted under a running VM).
    for (const e of this.monitor.entriesOf(net.bridgeIndex))
      if (e.ifindex === port.ifindex) this.fdbAdded(e, undefined);
  }

  /** After the tables are loaded: dvs's devices of VNIs no network names, and vxlan entries no table names, go. */
  private removeStale(): void {
    for (const link of this.rtnl.links()) {
      const parsed = parseDvsLinkName(link.name);
      if (parsed === null || parsed.vni === null || !isDvsLink(link) || this.networks.has(parsed.vni)) continue;
      this.kernel('delete a stale device', () => this.rtnl.deleteLink(link.ifindex));
      this.logger.info('kernel datapath: removed a device no network names', { device: link.name });
    }
    const stale: FdbChange[] = [];
    for (const net of this.networks.values())
      if (net.problem === null) stale.push(...net.staleEntries(this.rtnl.fdb({ device: net.vxlan }), this.o.vtep.port));
    if (stale.length > 0) this.logger.info('kernel datapath: removed stale FDB entries', { entries: stale.length });
    this.program(stale);
    for (const net of this.networks.values()) if (net.problem === null) this.reconcileNeighbours(net);
  }

  /**
   * The bridge's neighbour entries a restarted agent finds: dvs's (extern_learn)
   * that a binding names stay; one of a local MAC is adopted as its local
   * binding (and reported); the others go.
   */
  private reconcileNeighbours(net: KernelNetwork): void {
    const neigh: IpNeighbourChange[] = [];
    for (const n of this.rtnl.ipNeighbours(net.bridge)) {
      if (!n.extLearned || n.mac === null || net.bindings.byIp.get(n.address)?.mac === n.mac) continue;
      const local = net.local.get(n.mac);
      if (local !== undefined && !net.bindings.byIp.has(n.address)) {
        net.bindings.byIp.set(n.address, { mac: n.mac, origin: 'local' });
        this.emitEvent('ip:bound', { vni: net.vni, mac: n.mac, ip: n.address, port: local.port });
      } else neigh.push({ op: 'del', device: net.bridge, address: n.address });
    }
    this.programNeighbours(neigh);
  }

  // ---- local MACs (FDB monitor) ----------------------------------------------

  private fdbAdded(entry: FdbEntry, previous: FdbEntry | undefined): void {
    if (entry.table !== 'master' || entry.state === 'permanent') return;
    const net = this.networkOfBridge(entry.master);
    if (net === undefined) return;
    const port = this.portByIndex(entry.ifindex);
    if (port === undefined) return; // the vxlan port (it does not learn), or a device that is not ours
    const known = net.local.get(entry.mac);
    if (known !== undefined && known.port === port.spec.name) return; // a state change (stale, refreshed)
    if (
      port.spec.security?.lockFirstMac === true &&
      port.lockedMac === undefined &&
      !port.spec.security.allowed?.length
    ) {
      port.lockedMac = entry.mac;
      this.kernel('lock a port to its first MAC', () => this.applySecurity());
    }
    const control = net.remote.get(entry.mac);
    const seq = Math.max(known?.seq ?? 0, control === undefined ? 0 : control.seq + 1);
    net.local.set(entry.mac, { port: port.spec.name, seq });
    if (known !== undefined || previous !== undefined || control !== undefined)
      this.emitEvent('mac:move', {
        vni: net.vni,
        mac: entry.mac,
        from: known?.port ?? (control === undefined ? '?' : vtepId(control.vtep)),
        to: port.spec.name,
      });
    this.emitEvent('mac:local', { vni: net.vni, mac: entry.mac, port: port.spec.name, seq });
    // Bindings snooped before the bridge's entry was reported join the report now.
    for (const ip of net.bindings.ipsOf(entry.mac))
      if (net.bindings.byIp.get(ip)?.origin === 'local')
        this.emitEvent('ip:bound', { vni: net.vni, mac: entry.mac, ip, port: port.spec.name });
  }

  private fdbDeleted(entry: FdbEntry): void {
    if (entry.table !== 'master' || entry.state === 'permanent') return;
    const net = this.networkOfBridge(entry.master);
    if (net === undefined) return;
    const port = this.portByIndex(entry.ifindex);
    const known = net.local.get(entry.mac);
    if (known === undefined || port === undefined || known.port !== port.spec.name) return;
    net.local.delete(entry.mac);
    this.emitEvent('mac:gone', { vni: net.vni, mac: entry.mac, port: known.port });
    // The MAC's remote entry (if the controller names one) serves again, with its remote bindings.
    const neigh: IpNeighbourChange[] = [];
    net.bindings.dropMac(entry.mac, 'local', neigh);
    const remote = net.remote.get(entry.mac);
    if (remote !== undefined) {
      this.program(net.remoteEntries(entry.mac, remote.vtep));
      net.bindings.setRemote(entry.mac, remote.ips, neigh);
    }
    this.programNeighbours(neigh);
  }

  /** The monitor dumped again (or we start): local MACs are taken from its table. */
  private resyncLocal(): void {
    for (const net of this.networks.values()) {
      const seen = new Set<number>();
      for (const e of this.monitor.entriesOf(net.bridgeIndex)) {
        if (e.table !== 'master' || e.state === 'permanent') continue;
        seen.add(e.mac);
        this.fdbAdded(e, undefined);
      }
      const neigh: IpNeighbourChange[] = [];
      for (const [mac, local] of [...net.local])
        if (!seen.has(mac)) {
          net.local.delete(mac);
          net.bindings.dropMac(mac, 'local', neigh);
          this.emitEvent('mac:gone', { vni: net.vni, mac, port: local.port });
        }
      this.programNeighbours(neigh);
    }
  }

  /** The controller placed a MAC we held locally elsewhere with a newer seq: the bridge forgets it on our port. */
  private displaceLocal(
    net: KernelNetwork,
    mac: number,
    portName: string,
    to: string,
    fdb: FdbChange[],
    neigh: IpNeighbourChange[],
  ): void {
    net.local.delete(mac);
    net.bindings.dropMac(mac, 'local', neigh);
    const port = this.ports.get(portName);
    if (port !== undefined) fdb.push({ op: 'del', device: port.ifindex, mac, table: 'master' });
    this.emitEvent('mac:move', { vni: net.vni, mac, from: portName, to });
    this.emitEvent('mac:gone', { vni: net.vni, mac, port: portName });
  }

  // ---- helpers ---------------------------------------------------------------

  private async flood(bridge: string, frame: Buffer): Promise<void> {
    try {
      const sender = await this.o.io.openSender(bridge);
      try {
        const batch = new PacketBatch(1, Math.max(64, frame.length));
        batch.buffer.set(frame, 0);
        batch.offsets[0] = 0;
        batch.lengths[0] = frame.length;
        sender.write(batch, [0], 1);
      } finally {
        sender.close();
      }
    } catch (err) {
      this.kernelErrors++;
      this.logger.warn('kernel datapath: cannot send an announcement out of the bridge', {
        bridge,
        error: (err as Error).message,
      });
    }
  }

  private program(changes: FdbChange[]): void {
    if (changes.length === 0) return;
    let failed: readonly { message: string; errno: string; change: FdbChange }[];
    try {
      failed = this.rtnl.applyFdbSync(changes).failed;
    } catch (err) {
      this.kernelErrors++;
      this.logger.error('kernel datapath: FDB changes refused', { error: (err as Error).message });
      return;
    }
    // A deletion of what is not there is what we wanted anyway.
    const real = failed.filter((f) => !(f.change.op === 'del' && (f.errno === 'ENOENT' || f.errno === 'ENODEV')));
    if (real.length === 0) return;
    this.kernelErrors += real.length;
    this.logger.warn('kernel datapath: the kernel refused FDB changes', {
      refused: real.length,
      first: real[0]!.message,
    });
  }

  /** The nft table holds the rules of exactly the ports with security (the whole table, replaced at once). */
  private applySecurity(): void {
    if (this.security === null) return;
    const secured: SecuredPort[] = [];
    for (const p of this.ports.values())
      if (!isEmptyPortSecurity(p.spec.security))
        secured.push({
          name: p.spec.name,
          device: p.device.name,
          security: p.spec.security!,
          ...(p.lockedMac !== undefined ? { lockedMac: p.lockedMac } : {}),
        });
    this.security.apply(secured);
  }

  /** Port security drops by port, from the nft table's counters. */
  private securityDrops(): CountersSnapshot['portSecurity'] {
    const out: CountersSnapshot['portSecurity'] = {};
    if (this.security === null || ![...this.ports.values()].some((p) => !isEmptyPortSecurity(p.spec.security)))
      return out;
    for (const [port, c] of this.security.counters()) if (this.ports.has(port)) out[port] = c;
    return out;
  }

  private programNeighbours(changes: IpNeighbourChange[]): void {
    if (changes.length === 0) return;
    let failed: { errno: string; message: string }[];
    try {
      failed = this.rtnl.applyIpNeighbours(changes).failed;
    } catch (err) {
      this.kernelErrors++;
      this.logger.error('kernel datapath: neighbour changes refused', { error: (err as Error).message });
      return;
    }
    const real = failed.filter((f) => f.errno !== 'ENOENT');
    if (real.length === 0) return;
    this.kernelErrors += real.length;
    this.logger.warn('kernel datapath: the kernel refused neighbour changes', {
      refused: real.length,
      first: real[0]!.message,
    });
  }

  /** An ARP or ND frame arrived on an interface: a local port's states one of its IP bindings. */
  private snooped(ifindex: number, frame: Buffer): void {
    const port = this.portByIndex(ifindex);
    if (port === undefined || !port.enslaved) return;
    const net = this.networks.get(port.spec.vni);
    const found = net === undefined ? null : bindingInFrame(frame);
    if (net === undefined || found === null) return;
    if (!allowsBinding(port.spec.security, port.lockedMac, found.mac, found.ip)) return;
    const neigh: IpNeighbourChange[] = [];
    const live = (mac: number): boolean => net.local.has(mac) || net.remote.has(mac);
    if (!net.bindings.learnLocal(found.ip, found.mac, live, neigh)) return;
    this.programNeighbours(neigh);
    // Reported once the bridge's entry for the MAC is (fdbAdded reports its bindings then).
    if (net.local.get(found.mac)?.port === port.spec.name)
      this.emitEvent('ip:bound', { vni: net.vni, mac: found.mac, ip: found.ip, port: port.spec.name });
  }

  private kernel(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.kernelErrors++;
      this.logger.warn(`kernel datapath: cannot ${what}`, { error: (err as Error).message });
    }
  }

  private kernelFdb(net: KernelNetwork): FdbEntry[] {
    try {
      return [...this.rtnl.fdb({ master: net.bridge }), ...this.rtnl.fdb({ device: net.vxlan })];
    } catch {
      return [];
    }
  }

  private heldTables(vni: number): KernelTables | null {
    const net = this.networks.get(vni);
    if (net === undefined) return null;
    let held: FdbEntry[] = [];
    if (net.problem === null)
      try {
        held = this.rtnl.fdb({ device: net.vxlan });
      } catch {
        // The device is gone: it holds nothing, which is what the audit should see.
      }
    return kernelTables(held, net.vxlanIndex, this.o.vtep.port);
  }

  private networkOfBridge(ifindex: number): KernelNetwork | undefined {
    for (const net of this.networks.values()) if (net.bridgeIndex === ifindex) return net;
    return undefined;
  }

  private portByIndex(ifindex: number): KernelPort | undefined {
    for (const p of this.ports.values()) if (p.ifindex === ifindex) return p;
    return undefined;
  }

  private emitEvent<K extends keyof DataPathEvents>(event: K, payload: DataPathEvents[K]): void {
    this.listenerErrors += this.emitToEach(event, ...([payload] as DatapathEventArgs[K]));
  }
}
