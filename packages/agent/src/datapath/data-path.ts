import {
  PacketBatch,
  STAGE_JS_HANDLER,
  STAGE_JS_READ,
  markStage,
  type FrameDevice,
  type TunnelSocket,
} from '@dvs/netdev';
import {
  isValidMac,
  isValidVni,
  networkFlowExport,
  parseIpAddress,
  type Encap,
  type VniDigest,
  type VtepRecord,
} from '@dvs/wire';
import type { ApplyResult, ControlSurface, DataPathEvents, RejectedChange, TableChange } from './control-surface.js';
import { newDropCounters, newFdbCounters, type CountersSnapshot, type TrafficCounters } from './counters.js';
import { DataPathError } from './data-path-error.js';
import {
  DEFAULT_AGING_MS,
  DEFAULT_CONFIRM_MS,
  DEFAULT_FDB_LIMIT,
  localPortOf,
  type FdbEntry,
  type FdbOptions,
} from './fdb.js';
import type { NetworkState } from './network.js';
import { TableApplier } from './table-apply.js';
import { controlEntries } from './table-digest.js';
import { PeerRegistry } from './peer.js';
import { HEADROOM, Pipeline, SocketTarget } from './pipeline.js';
import { macEventQueue, type QueuedEvent } from './mac-events.js';
import { Port, checkPortSpec, type PortSpec } from './port.js';
import { countDeviceDrops } from './port-ingress.js';
import { ProvisionalMoves, type LearnConflictView } from './provisional-moves.js';
import { sendProbeFrame, type ProbeHandler, type ProbeTarget } from './probe.js';
import {
  countersSnapshot,
  describeFdbEntry,
  describeIpsByMac,
  describeNetwork,
  describePeer,
  describePort,
} from './describe.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from './views.js';
import { TypedEmitter } from './typed-emitter.js';
import type { FlowTap } from './flow-tap.js';
import { TokenBucket, policerSpecProblem, type PolicerSpec } from './token-bucket.js';
import {
  checkMirrorConfig,
  describeMirrors,
  mirrorCounters,
  type MirrorConfig,
  type MirrorResolver,
  type MirrorView,
} from './mirror.js';
import { SuperDatagramReceiver } from './super-datagram-receive.js';
import { NO_DEVICE, TraceRecorder, traceReport, writeTraceFrame, type TraceQuery, type TraceReport } from './trace.js';

/** Event map in EventEmitter's shape: one payload object per `noun:verb` event. */
export type DataPathEventArgs = { [K in keyof DataPathEvents]: [DataPathEvents[K]] };

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
  /** Run expire() (and the provisional moves' deadlines) on timers while started. Default true. */
  agingTimer?: boolean;
  /**
   * MAC locations follow the control plane (an agent with etcd): tunnel
   * claims against the controller's entries are provisional, and local ports
   * keep MACs they saw recently (fdb.ts). Default false: learning decides, as
   * with static peers.
   */
  trustControlPlane?: boolean;
  /** How long a provisional move waits for the controller. Default 1000 ms. */
  confirmMs?: number;
  /** A local port that saw a MAC this recently keeps it against tunnel claims. Default 2000 ms. */
  localHoldMs?: number;
}

const DEFAULT_SLOT_SIZE = 9344;

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
  /** Made when the first socket with UDP_GRO is attached (4 MiB of receive slots). */
  private superReceiver: SuperDatagramReceiver | null = null;
  private readonly injectBatch: PacketBatch;
  private readonly probeBatch: PacketBatch;
  /** The one frame a trace switches (made on the first trace). */
  private traceBatch: PacketBatch | null = null;
  private readonly now: () => number;
  private readonly agingMs: number;
  private readonly fdbOptions: FdbOptions;
  private readonly provisional: ProvisionalMoves;
  private readonly trustsControlPlane: boolean;
  private readonly maxBatchesPerPoll: number;
  private readonly agingTimerEnabled: boolean;
  private agingTimer: NodeJS.Timeout | null = null;
  private probeSendError: string | null = null;
  /** How the mirror table finds ports, sockets and peers by name. */
  private readonly mirrorResolver: MirrorResolver = {
    port: (name) => this.pipeline.ports.get(name),
    socket: (encap) => this.pipeline.sockets.get(encap),
    acquirePeer: (vtep) => this.peerRegistry.acquire(vtep),
    releasePeer: (peer) => this.peerRegistry.release(peer),
  };
  private started = false;

  constructor(options: DataPathOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    this.trustsControlPlane = options.trustControlPlane ?? false;
    this.fdbOptions = {
      agingMs: this.agingMs,
      limit: options.fdbLimit ?? DEFAULT_FDB_LIMIT,
      trustControlPlane: options.trustControlPlane ?? false,
      confirmMs: options.confirmMs ?? DEFAULT_CONFIRM_MS,
      ...(options.localHoldMs !== undefined ? { localHoldMs: options.localHoldMs } : {}),
    };
    this.maxBatchesPerPoll = options.maxBatchesPerPoll ?? 16;
    this.agingTimerEnabled = options.agingTimer ?? true;
    const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    this.rxBatch = new PacketBatch(options.batchSize ?? 64, slotSize);
    this.injectBatch = new PacketBatch(1, slotSize);
    this.probeBatch = new PacketBatch(1, slotSize);
    const copyBatch = new PacketBatch(options.copyBatchSize ?? 128, slotSize);
    this.pipeline = new Pipeline(
      copyBatch,
      this.drops,
      this.now,
      macEventQueue(this.queuedEvents, (net, entry, claimant, outcome) =>
        this.provisional.conflict(net, entry, claimant, outcome),
      ),
    );
    this.provisional = new ProvisionalMoves(this.pipeline.networks, this.now, (name, payload) =>
      this.queuedEvents.push({ name, payload } as QueuedEvent),
    );
    this.tables = new TableApplier({
      networks: this.pipeline.networks,
      peers: this.peerRegistry,
      fdbCounters: this.fdbCounters,
      fdbOptions: this.fdbOptions,
      now: this.now,
      membersChanged: () => this.rebuildMembers(),
      localGone: (vni, entry) => this.emitGone(vni, entry),
      contradicted: (net, entry, claimant) => this.provisional.conflict(net, entry, claimant, 'reverted'),
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
    if (socket.receivesSuperDatagrams === true) this.superReceiver ??= new SuperDatagramReceiver(this.rxBatch);
    this.pipeline.sockets.set(encap, target);
    this.rebuildMembers();
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
    checkPortSpec(spec);
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

  /**
   * Replaces every mirror and RSPAN analyser port (mirror.ts). Ports named
   * but not attached yet are bound when they come. Throws DataPathError
   * (DVS_BAD_ARGUMENT) naming the field — a sampling rate of 0, an output
   * that is a source, a mirror VNI that is a network here —; nothing
   * changes then.
   */
  setMirrors(config: MirrorConfig): void {
    checkMirrorConfig(config, new Set(this.pipeline.networks.keys()));
    this.pipeline.mirrors.release(this.mirrorResolver);
    this.pipeline.mirrors.set(config, this.mirrorResolver);
    this.rebuildMembers();
  }

  mirrorViews(): MirrorView[] {
    return describeMirrors(this.pipeline.mirrors);
  }

  hasPort(name: string): boolean {
    return this.pipeline.ports.has(name);
  }

  /**
   * Sets (or with null, removes) the flow tap the pipeline feeds: sFlow
   * sampling and the IPFIX flow cache (flow-tap.ts). The flow exporters own
   * it and read it between batches.
   */
  setFlowTap(tap: FlowTap | null): void {
    this.pipeline.flowTap = tap;
  }

  /**
   * Whether sFlow sends the counters of port `name`: not when every network
   * it belongs to has sFlow export off (its spec's flowExport). A port this
   * data path does not hold is not its to refuse.
   */
  sflowCountsPort(name: string): boolean {
    const port = this.pipeline.ports.get(name);
    if (port === undefined) return true;
    return port.vnis().some((vni) => {
      const net = this.pipeline.networks.get(vni);
      return net === undefined || networkFlowExport(net.spec).sflow;
    });
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
      if (this.fdbOptions.trustControlPlane === true) this.provisional.start(this.fdbOptions.confirmMs as number);
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
    this.provisional.stop();
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
    const { sent, error } = sendProbeFrame(socket.socket, this.probeBatch, address, target, frame);
    this.probeSendError = error;
    const b = this.probeBatch;
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
    this.deliverEvents();
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

  /**
   * Moves provisional moves the controller did not confirm in time back (the
   * timer calls it; tests call it with an injected clock); each is a learn
   * conflict (mac:conflict). Returns how many.
   */
  expireProvisional(): number {
    const n = this.provisional.expire();
    this.deliverEvents();
    return n;
  }

  /**
   * With trustControlPlane: whether the control plane can confirm moves now.
   * While it cannot (etcd unreachable), tunnel learning moves MACs at once, as
   * with static peers, and nothing reverts; from `up` again, provisional
   * moves resume (the tables' resync confirms or contradicts what moved).
   */
  setControlPlaneUp(up: boolean): void {
    if (this.trustsControlPlane === false) return;
    this.fdbOptions.trustControlPlane = up;
    for (const net of this.pipeline.networks.values()) net.fdb.trustControlPlane = up;
  }

  /** Learn conflicts seen within `windowMs` (default 10 minutes), newest first. */
  learnConflicts(windowMs = 600_000): LearnConflictView[] {
    return this.provisional.recent(windowMs);
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

  tableDigest(vni: number): VniDigest | null {
    return this.pipeline.networks.get(vni)?.digest.value(vni) ?? null;
  }

  controlEntries(vni: number): Map<string, VtepRecord> | null {
    const net = this.pipeline.networks.get(vni);
    return net === undefined ? null : controlEntries(net.controlMacs);
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
    return countersSnapshot(this.sortedNetworks(), this.pipeline.ports.values(), this.peerRegistry.all(), {
      drops: this.drops,
      fdb: this.fdbCounters,
      rejectedChanges: this.rejectedChanges,
      internalErrors: this.internalErrors,
      listenerErrors: this.listenerErrors,
      mirrors: mirrorCounters(this.pipeline.mirrors),
    });
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

  /** Members of each VNI, and the mirrors' bindings: an output port of a mirror is no member (mirror.ts). */
  private rebuildMembers(): void {
    const mirrors = this.pipeline.mirrors;
    mirrors.rebind(this.mirrorResolver);
    for (const net of this.pipeline.networks.values()) {
      net.members = [];
      for (const port of this.pipeline.ports.values()) {
        if (mirrors.isOutput(port)) continue;
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

  // markStage: the stage trace's JS marks (a branch while it is off; @dvs/netdev stage-trace.ts).
  private pollPort(port: Port): void {
    const batch = this.rxBatch;
    markStage(STAGE_JS_HANDLER);
    for (let round = 0; round < this.maxBatchesPerPoll; round++) {
      let n: number;
      try {
        n = port.device.read(batch, HEADROOM);
      } catch (err) {
        this.portFailed(port, err);
        return;
      }
      countDeviceDrops(port, this.pipeline.drops);
      if (n === 0) return;
      markStage(STAGE_JS_READ);
      try {
        this.pipeline.processPortBatch(port, batch, n);
      } catch {
        this.batchFailed();
      }
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
    port.up = false;
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
    const receiver = target.socket.receivesSuperDatagrams === true ? this.superReceiver : null;
    const batch = receiver === null ? this.rxBatch : receiver.batch;
    markStage(STAGE_JS_HANDLER);
    for (let round = 0; round < this.maxBatchesPerPoll; round++) {
      let n: number;
      try {
        n = target.socket.recv(batch, HEADROOM);
      } catch {
        return;
      }
      if (n === 0) return;
      markStage(STAGE_JS_READ);
      try {
        if (receiver === null) this.pipeline.processTunnelBatch(target, batch, n);
        else receiver.switch(this.pipeline, target, n);
      } catch {
        this.batchFailed();
      }
      this.deliverEvents();
      if (n < batch.capacity) return;
    }
  }

  /**
   * Switching a batch threw (a bug): it must not stop the loop or leave
   * half-queued output, so the batch is abandoned and counted
   * (internalErrors). The pollers catch inline: a closure per batch would
   * be garbage per batch.
   */
  private batchFailed(): void {
    this.internalErrors++;
    this.pipeline.abandonBatch();
  }

  private sortedNetworks(): NetworkState[] {
    return [...this.pipeline.networks.values()].sort((a, b) => a.vni - b.vni);
  }

  private emitGone(vni: number, entry: FdbEntry): void {
    const port = localPortOf(entry);
    if (port !== null) this.emit('mac:gone', { vni, mac: entry.mac, port: port.name });
  }

  /** Hands the queued MAC events to the listeners, in order; a listener that throws is counted, not fatal. */
  private deliverEvents(): void {
    const queue = this.queuedEvents;
    if (queue.length === 0) return;
    // Listeners may switch frames themselves (injectFrame): take this batch's events first.
    const events = queue.splice(0, queue.length);
    for (const e of events) this.listenerErrors += this.emitToEach(e.name, e.payload as never);
  }
}
