import { PacketBatch, type FrameDevice, type TunnelSocket } from '@dvs/netdev';
import { isValidMac, isValidVlanId, isValidVni, parseIpAddress, type Encap } from '@dvs/wire';
import type { ApplyResult, ControlSurface, DataPathEvents, RejectedChange, TableChange } from './control-surface.js';
import { newDropCounters, newFdbCounters, type CountersSnapshot, type TrafficCounters } from './counters.js';
import { DataPathError } from './data-path-error.js';
import { TUNNEL_HEADER_LENGTH, writeTunnelHeader } from './encap.js';
import { DEFAULT_AGING_MS, DEFAULT_FDB_LIMIT, type FdbEntry, type FdbLocation } from './fdb.js';
import type { NetworkState } from './network.js';
import { TableApplier } from './table-apply.js';
import { PeerRegistry } from './peer.js';
import { HEADROOM, Pipeline, SocketTarget, type PipelineListener } from './pipeline.js';
import { Port, type PortSpec } from './port.js';
import type { ProbeHandler, ProbeTarget } from './probe.js';
import { describeFdbEntry, describeIpsByMac, describeNetwork, describePeer, describePort } from './describe.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from './views.js';
import { TypedEmitter } from './typed-emitter.js';
import { TokenBucket, policerSpecProblem, type PolicerSpec } from './token-bucket.js';
import { NO_DEVICE, TraceRecorder, traceReport, writeTraceFrame, type TraceQuery, type TraceReport } from './trace.js';

/** Event map in EventEmitter's shape: one payload object per `noun:verb` event. */
export type DataPathEventArgs = { [K in keyof DataPathEvents]: [DataPathEvents[K]] };

/** A MAC event waiting for the end of its batch. */
type QueuedEvent = { [K in keyof DataPathEvents]: { name: K; payload: DataPathEvents[K] } }[keyof DataPathEvents];

export interface DataPathOptions {
  /** Injectable clock in milliseconds (tests age entries without waiting). Default Date.now. */
  now?: () => number;
  /** FDB aging in ms. Default 300 000. */
  agingMs?: number;
  /** Dynamic FDB entries per VNI. Default 8192. */
  fdbLimit?: number;
  /** Frames per read/recv batch. Default 64. */
  batchSize?: number;
  /** Bytes per batch slot (headroom included). Default 9344: a 9000-byte MTU frame, a tag and a tunnel header. */
  slotSize?: number;
  /** Slots for flood copies (head-end replication, tagged egress). Default 128. */
  copyBatchSize?: number;
  /** Read at most this many batches per readiness callback before yielding to other devices. Default 16. */
  maxBatchesPerPoll?: number;
  /** Run expire() on a timer while started. Default true. */
  agingTimer?: boolean;
}

const DEFAULT_SLOT_SIZE = 9344;
const PROBE_SLOTS = new Uint32Array([0]);

/**
 * The agent's switch: ports, per-VNI networks (FDB, flood list, peers), the
 * tunnel sockets, and the pipeline that switches frames among them (see
 * pipeline.ts for the per-frame steps). The control plane changes it only
 * through apply() and the port calls; it reports learns back as events.
 */
export class DataPath extends TypedEmitter<DataPathEventArgs> implements ControlSurface {
  readonly drops = newDropCounters();
  readonly fdbCounters = newFdbCounters();
  /** Table changes rejected by apply() (invalid VNI, MAC, VTEP, …); their batch was not applied. */
  rejectedChanges = 0;
  /** Batches abandoned because switching threw (a bug; should stay 0). */
  internalErrors = 0;
  /** Event listeners that threw (each delivery counts; the frames were out already). */
  listenerErrors = 0;
  /**
   * MAC events of the batch being switched. Listeners never run inside the
   * frame loop (a msgpack encode per learned MAC, or a listener that throws,
   * would cost frames): the pipeline queues, and deliverEvents() hands the
   * events over, in order, once the batch's frames are out.
   */
  private readonly queuedEvents: QueuedEvent[] = [];
  private readonly pipeline: Pipeline;
  private readonly peerRegistry = new PeerRegistry();
  private readonly tables: TableApplier;
  private readonly rxBatch: PacketBatch;
  private readonly injectBatch: PacketBatch;
  private readonly probeBatch: PacketBatch;
  /** The one frame a trace switches (made on the first trace). */
  private traceBatch: PacketBatch | null = null;
  private readonly now: () => number;
  private readonly agingMs: number;
  private readonly fdbLimit: number;
  private readonly maxBatchesPerPoll: number;
  private readonly agingTimerEnabled: boolean;
  private agingTimer: NodeJS.Timeout | null = null;
  private probeSendError: string | null = null;
  private started = false;

  constructor(options: DataPathOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    this.fdbLimit = options.fdbLimit ?? DEFAULT_FDB_LIMIT;
    this.maxBatchesPerPoll = options.maxBatchesPerPoll ?? 16;
    this.agingTimerEnabled = options.agingTimer ?? true;
    const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    this.rxBatch = new PacketBatch(options.batchSize ?? 64, slotSize);
    this.injectBatch = new PacketBatch(1, slotSize);
    this.probeBatch = new PacketBatch(1, slotSize);
    const copyBatch = new PacketBatch(options.copyBatchSize ?? 128, slotSize);
    this.pipeline = new Pipeline(copyBatch, this.drops, this.now, this.listener());
    this.tables = new TableApplier({
      networks: this.pipeline.networks,
      peers: this.peerRegistry,
      fdbCounters: this.fdbCounters,
      fdbOptions: { agingMs: this.agingMs, limit: this.fdbLimit },
      now: this.now,
      membersChanged: () => this.rebuildMembers(),
      localGone: (vni, entry) => this.emitGone(vni, entry),
      emit: (event, payload) => this.emit(event, payload as never),
    });
  }

  get maxFrameLength(): number {
    return this.rxBatch.slotSize - HEADROOM;
  }

  // ---- devices -------------------------------------------------------------

  /** Attaches the tunnel socket of an encap (one per encap). */
  attachSocket(encap: Encap, socket: TunnelSocket): void {
    if (this.pipeline.sockets.has(encap))
      throw new DataPathError('DVS_BAD_ARGUMENT', `a ${encap} socket is already attached`);
    const target = new SocketTarget(encap, socket, this.rxBatch.capacity, this.pipeline.copyBatch.capacity);
    this.pipeline.sockets.set(encap, target);
    if (this.started) this.watchSocket(target);
  }

  /**
   * Adds a port; traffic of other ports is not disturbed. `counters` continues
   * the rx/tx counters of an earlier life of the port (its device gone and
   * attached again); they are updated in place. Throws DataPathError
   * (DVS_PORT_EXISTS, DVS_BAD_ARGUMENT).
   */
  addPort(spec: PortSpec, device: FrameDevice, counters?: TrafficCounters): void {
    if (this.pipeline.ports.has(spec.name))
      throw new DataPathError('DVS_PORT_EXISTS', `port ${spec.name} already exists`);
    if (spec.mode === 'access' && !isValidVni(spec.vni)) {
      throw new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: VNI must be 1..16777215, got ${spec.vni}`);
    }
    if (spec.mode === 'trunk') {
      if (spec.vlans.size === 0)
        throw new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: a trunk needs at least one VLAN=VNI`);
      const seen = new Set<number>();
      for (const [vlan, vni] of spec.vlans) {
        if (!isValidVlanId(vlan))
          throw new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: VLAN must be 1..4094, got ${vlan}`);
        if (!isValidVni(vni))
          throw new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: VNI must be 1..16777215, got ${vni}`);
        if (seen.has(vni))
          throw new DataPathError('DVS_BAD_ARGUMENT', `port ${spec.name}: VNI ${vni} is mapped from two VLANs`);
        seen.add(vni);
      }
    }
    const port = new Port(spec, device, this.rxBatch.capacity, this.pipeline.copyBatch.capacity, counters);
    this.pipeline.ports.set(port.name, port);
    this.rebuildMembers();
    if (this.started) this.watchPort(port);
  }

  /** Removes a port: stops reading it, forgets its MACs (mac:gone). Returns its device; the caller closes it. */
  removePort(name: string): FrameDevice {
    const port = this.pipeline.ports.get(name);
    if (port === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${name}`);
    this.unwatch(() => port.device.onReadable(null));
    this.pipeline.ports.delete(name);
    this.rebuildMembers();
    for (const net of this.pipeline.networks.values()) {
      for (const entry of net.fdb.removeLocation(port, true)) this.emitGone(net.vni, entry);
    }
    return port.device;
  }

  /**
   * Sets (or with null, removes) a port's QoS policer for one direction
   * (token-bucket.ts). Throws DataPathError: DVS_PORT_NOT_FOUND,
   * DVS_BAD_ARGUMENT naming the field (rate 0, a burst below one frame);
   * nothing changes then.
   */
  setPortPolicer(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    const port = this.pipeline.ports.get(name);
    if (port === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${name}`);
    const problem = spec === null ? null : policerSpecProblem(spec);
    if (problem !== null) throw new DataPathError('DVS_BAD_ARGUMENT', `port ${name}: ${direction} ${problem}`);
    const bucket = spec === null ? null : new TokenBucket({ ...spec }, this.now());
    if (direction === 'ingress') port.ingressPolicer = bucket;
    else port.egressPolicer = bucket;
  }

  hasPort(name: string): boolean {
    return this.pipeline.ports.has(name);
  }

  /** Starts reading every port and socket (and the aging timer). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const port of this.pipeline.ports.values()) this.watchPort(port);
    for (const target of this.pipeline.sockets.values()) this.watchSocket(target);
    if (this.agingTimerEnabled) {
      const every = Math.max(100, Math.min(this.agingMs / 4, 5000));
      this.agingTimer = setInterval(() => this.expire(), every);
      this.agingTimer.unref();
    }
  }

  /** Stops reading (devices stay open: their owner closes them). */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const port of this.pipeline.ports.values()) this.unwatch(() => port.device.onReadable(null));
    for (const target of this.pipeline.sockets.values()) this.unwatch(() => target.socket.onReadable(null));
    if (this.agingTimer !== null) clearInterval(this.agingTimer);
    this.agingTimer = null;
  }

  /**
   * Switches `frame` as if it had been read from port `portName` (the admin
   * socket's ports/announce uses it to send RARP self-announcements).
   */
  injectFrame(portName: string, frame: Uint8Array): void {
    const port = this.pipeline.ports.get(portName);
    if (port === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${portName}`);
    if (frame.length > this.maxFrameLength)
      throw new DataPathError('DVS_BAD_ARGUMENT', `frame longer than ${this.maxFrameLength} bytes`);
    const batch = this.injectBatch;
    batch.buffer.set(frame, HEADROOM);
    batch.offsets[0] = HEADROOM;
    batch.lengths[0] = frame.length;
    this.pipeline.processPortBatch(port, batch, 1);
    this.deliverEvents();
  }

  // ---- tunnel health hook --------------------------------------------------

  /** Why the last sendProbe() returned false: an errno symbol ('EAGAIN', 'ENETUNREACH', …) or null. */
  lastProbeSendError(): string | null {
    return this.probeSendError;
  }

  /** Registers the handler of probe frames (see probe.ts); null removes it. */
  setProbeHandler(handler: ProbeHandler | null): void {
    this.pipeline.probeHandler = handler;
  }

  /**
   * Sends one probe frame to a VTEP over the encap's socket, inside a tunnel
   * header for `vni`. Returns false when there is no socket for the encap, the
   * address is not IP text, the frame does not fit, or the socket (or the
   * kernel behind it: no route, …) refused it; lastProbeSendError() says why.
   */
  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean {
    const socket = this.pipeline.sockets.get(target.encap);
    const address = parseIpAddress(target.vtep.address);
    if (socket === undefined || address === null || !isValidVni(target.vni) || frame.length > this.maxFrameLength) {
      this.probeSendError = socket === undefined ? 'ENOSOCKET' : 'EINVAL';
      return false;
    }
    const b = this.probeBatch;
    b.buffer.set(frame, HEADROOM);
    writeTunnelHeader(target.encap, b.buffer, HEADROOM - TUNNEL_HEADER_LENGTH, target.vni);
    b.offsets[0] = HEADROOM - TUNNEL_HEADER_LENGTH;
    b.lengths[0] = frame.length + TUNNEL_HEADER_LENGTH;
    if (address.family === 4) b.setIpv4Destination(0, address.ipv4, target.vtep.port);
    else b.setIpv6Destination(0, address.ipv6, target.vtep.port);
    let sent = 0;
    this.probeSendError = null;
    try {
      sent = socket.socket.send(b, PROBE_SLOTS, 1);
      // A datagram the kernel refused (ENETUNREACH, …) is consumed, not sent: the socket says why.
      const refused = socket.socket.lastSendError;
      if (sent !== 1) this.probeSendError = 'EAGAIN';
      else if (refused !== undefined && refused !== null) {
        sent = 0;
        this.probeSendError = refused;
      }
    } catch (err) {
      this.probeSendError =
        (err as { errno?: unknown }).errno === undefined ? 'ESENDFAILED' : String((err as { errno: unknown }).errno);
    }
    const peer = this.peerRegistry.get(target.vtep);
    if (peer !== undefined) {
      if (sent === 1) {
        peer.counters.txFrames++;
        peer.counters.txBytes += b.lengths[0];
      } else peer.counters.txDrops++;
    }
    return sent === 1;
  }

  // ---- control surface -------------------------------------------------------

  apply(changes: readonly TableChange[]): ApplyResult {
    const vnis = new Set(this.pipeline.networks.keys());
    const rejected: RejectedChange[] = [];
    changes.forEach((change, index) => {
      const reason = this.tables.validate(change, vnis);
      if (reason !== null) rejected.push({ index, kind: String((change as { kind?: unknown })?.kind), reason });
    });
    if (rejected.length > 0) {
      this.rejectedChanges += rejected.length;
      return { applied: 0, rejected };
    }
    for (const change of changes) {
      try {
        this.tables.apply(change);
      } catch {
        // validate() accepted it: a throw here is a bug, and the batch is half applied.
        this.internalErrors++;
      }
    }
    return { applied: changes.length, rejected };
  }

  /** Adds a static FDB entry on a local port (static config). Throws DataPathError. */
  addStaticLocal(vni: number, mac: number, portName: string): void {
    const net = this.pipeline.networks.get(vni);
    const port = this.pipeline.ports.get(portName);
    if (net === undefined) throw new DataPathError('DVS_BAD_ARGUMENT', `no network with VNI ${vni}`);
    if (port === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${portName}`);
    if (!isValidMac(mac)) throw new DataPathError('DVS_BAD_ARGUMENT', `invalid MAC`);
    if (!port.vniToVlan.has(vni)) throw new DataPathError('DVS_BAD_ARGUMENT', `port ${portName} is not in VNI ${vni}`);
    net.fdb.setStaticLocal(mac, port, this.now());
  }

  /** Ages out stale entries of every VNI (the timer calls it; tests call it with an injected clock). */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const net of this.pipeline.networks.values()) {
      for (const entry of net.fdb.expire(now)) {
        n++;
        this.emitGone(net.vni, entry);
      }
    }
    return n;
  }

  /** Removes learned entries of one VNI or all; returns how many. Static and control entries stay. */
  flushFdb(vni?: number): number {
    let n = 0;
    for (const net of this.pipeline.networks.values()) {
      if (vni !== undefined && net.vni !== vni) continue;
      for (const entry of net.fdb.flush()) {
        n++;
        this.emitGone(net.vni, entry);
      }
    }
    return n;
  }

  hasNetwork(vni: number): boolean {
    return this.pipeline.networks.has(vni);
  }

  // ---- views -----------------------------------------------------------------

  fdbEntries(vni?: number): FdbEntryView[] {
    const now = this.now();
    const out: FdbEntryView[] = [];
    for (const net of this.sortedNetworks()) {
      if (vni !== undefined && net.vni !== vni) continue;
      const entries = net.fdb.values().sort((a, b) => a.mac - b.mac);
      const ips = describeIpsByMac(net);
      for (const entry of entries) out.push(describeFdbEntry(entry, now, ips.get(entry.mac)));
    }
    return out;
  }

  portViews(): PortView[] {
    return [...this.pipeline.ports.values()].sort((a, b) => a.name.localeCompare(b.name)).map(describePort);
  }

  peerViews(): PeerView[] {
    const nets = this.sortedNetworks();
    return [...this.peerRegistry.all()].sort((a, b) => a.id.localeCompare(b.id)).map((p) => describePeer(p, nets));
  }

  networkViews(): NetworkView[] {
    return this.sortedNetworks().map(describeNetwork);
  }

  counters(): CountersSnapshot {
    const sizeByVni: Record<string, number> = {};
    let size = 0;
    for (const net of this.sortedNetworks()) {
      sizeByVni[String(net.vni)] = net.fdb.size;
      size += net.fdb.size;
    }
    const ports: CountersSnapshot['ports'] = {};
    for (const port of this.pipeline.ports.values()) ports[port.name] = { ...port.counters };
    const peers: CountersSnapshot['peers'] = {};
    for (const peer of this.peerRegistry.all()) peers[peer.id] = { ...peer.counters };
    return {
      drops: { ...this.drops },
      fdb: { ...this.fdbCounters, size, sizeByVni },
      ports,
      peers,
      rejectedChanges: this.rejectedChanges,
      internalErrors: this.internalErrors,
      listenerErrors: this.listenerErrors,
    };
  }

  /**
   * What the data path does with a frame (vni, src, dst[, ingress port]),
   * found by switching it in a dry run of the real pipeline: nothing counted,
   * nothing kept of what it learns, nothing sent, no listener told (trace.ts).
   * Throws DataPathError: DVS_PORT_NOT_FOUND for an unknown port,
   * DVS_BAD_ARGUMENT for an access port of another VNI or a length out of range.
   */
  trace(query: TraceQuery): TraceReport {
    const named = query.port !== undefined;
    const ingress = named ? this.pipeline.ports.get(query.port as string) : this.traceIngress(query.vni);
    if (ingress === undefined) throw new DataPathError('DVS_PORT_NOT_FOUND', `no port ${query.port}`);
    const batch = (this.traceBatch ??= new PacketBatch(1, this.rxBatch.slotSize));
    writeTraceFrame(batch, HEADROOM, this.maxFrameLength, query, ingress);
    const rx = { ...ingress.counters };
    const seen = new TraceRecorder(ingress);
    try {
      this.pipeline.dryRun(ingress, batch, seen);
      return traceReport(query, ingress, named, this.pipeline.networks, seen);
    } finally {
      seen.undo();
      Object.assign(ingress.counters, rx);
    }
  }

  /** The port a trace without a named port enters by: in the VNI, but no member (it gets no copies). */
  private traceIngress(vni: number): Port {
    return new Port({ name: '(ingress)', mode: 'access', vni }, NO_DEVICE, 1, 1);
  }

  // ---- internals ---------------------------------------------------------------

  private rebuildMembers(): void {
    for (const net of this.pipeline.networks.values()) {
      net.members = [];
      for (const port of this.pipeline.ports.values()) {
        const vlan = port.vniToVlan.get(net.vni);
        if (vlan !== undefined) net.members.push({ port, vlan });
      }
    }
  }

  private watchPort(port: Port): void {
    port.device.onReadable(() => this.pollPort(port));
  }

  private watchSocket(target: SocketTarget): void {
    target.socket.onReadable(() => this.pollSocket(target));
  }

  private unwatch(stop: () => void): void {
    try {
      stop();
    } catch {
      // Already closed: nothing to stop.
    }
  }

  private pollPort(port: Port): void {
    const batch = this.rxBatch;
    for (let round = 0; round < this.maxBatchesPerPoll; round++) {
      let n: number;
      try {
        n = port.device.read(batch, HEADROOM);
      } catch (err) {
        this.portFailed(port, err);
        return;
      }
      if (n === 0) return;
      this.guarded(() => this.pipeline.processPortBatch(port, batch, n));
      this.deliverEvents();
      if (n < batch.capacity) return;
    }
  }

  /**
   * A port's device failed to read: deleted under us (DVS_DEVICE_GONE), or
   * worse. Readiness is level-triggered, so a dead fd would wake us on every
   * loop turn: stop reading it, and say so once (`port:gone`). The port stays
   * until its owner removes it; writes to it are dropped and counted.
   */
  private portFailed(port: Port, err: unknown): void {
    this.unwatch(() => port.device.onReadable(null));
    const code = (err as { code?: unknown }).code;
    // A listener's bug must not escape into the device's readiness callback: counted, as for MAC events.
    this.listenerErrors += this.emitToEach('port:gone', {
      port: port.name,
      code: typeof code === 'string' ? code : 'DVS_IO',
      message: (err as Error).message ?? String(err),
    });
  }

  private pollSocket(target: SocketTarget): void {
    const batch = this.rxBatch;
    for (let round = 0; round < this.maxBatchesPerPoll; round++) {
      let n: number;
      try {
        n = target.socket.recv(batch, HEADROOM);
      } catch {
        return;
      }
      if (n === 0) return;
      this.guarded(() => this.pipeline.processTunnelBatch(target, batch, n));
      this.deliverEvents();
      if (n < batch.capacity) return;
    }
  }

  /**
   * Runs one batch; a bug that throws must not stop the loop or leave
   * half-queued output: the batch is abandoned and counted (internalErrors).
   */
  private guarded(run: () => void): void {
    try {
      run();
    } catch {
      this.internalErrors++;
      this.pipeline.abandonBatch();
    }
  }

  private sortedNetworks(): NetworkState[] {
    return [...this.pipeline.networks.values()].sort((a, b) => a.vni - b.vni);
  }

  private emitGone(vni: number, entry: FdbEntry): void {
    if (entry.local) this.emit('mac:gone', { vni, mac: entry.mac, port: (entry.location as Port).name });
  }

  /** Hands the queued MAC events to the listeners, in order; a listener that throws is counted, not fatal. */
  private deliverEvents(): void {
    const queue = this.queuedEvents;
    if (queue.length === 0) return;
    // Listeners may switch frames themselves (injectFrame): take this batch's events first.
    const events = queue.splice(0, queue.length);
    for (const e of events) this.listenerErrors += this.emitToEach(e.name, e.payload as never);
  }

  /** The pipeline's learns, moves and evictions, as queued MAC events (rare: never per frame in steady state). */
  private listener(): PipelineListener {
    const name = (loc: FdbLocation): string => (loc instanceof Port ? loc.name : loc.id);
    const queue = this.queuedEvents;
    return {
      learnedLocal: (net, mac, port, seq, movedFrom) => {
        queue.push({ name: 'mac:local', payload: { vni: net.vni, mac, port: port.name, seq } });
        if (movedFrom !== null)
          queue.push({ name: 'mac:move', payload: { vni: net.vni, mac, from: name(movedFrom), to: port.name } });
      },
      learnedRemote: (net, mac, peer, movedFrom) => {
        if (movedFrom === null) return;
        queue.push({ name: 'mac:move', payload: { vni: net.vni, mac, from: name(movedFrom), to: peer.id } });
        if (movedFrom instanceof Port)
          queue.push({ name: 'mac:gone', payload: { vni: net.vni, mac, port: movedFrom.name } });
      },
      ipBound: (net, binding, port) => {
        queue.push({ name: 'ip:bound', payload: { vni: net.vni, mac: binding.mac, ip: binding.ip, port: port.name } });
      },
      evicted: (net, mac, location) => {
        if (location instanceof Port)
          queue.push({ name: 'mac:gone', payload: { vni: net.vni, mac, port: location.name } });
      },
    };
  }
}
