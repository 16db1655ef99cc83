import type { FrameDevice } from '@dvs/netdev';
import type { VniDigest, VtepRecord } from '@dvs/wire';
import type { ApplyResult, DataPathEvents, RejectedChange, TableChange } from '../datapath/control-surface.js';
import { checkBatch } from './check-batch.js';
import type { CountersSnapshot, TrafficCounters } from '../datapath/counters.js';
import { DataPath, type DataPathOptions } from '../datapath/data-path.js';
import type { PortSpec } from '../datapath/port.js';
import type { ProbeHandler, ProbeTarget } from '../datapath/probe.js';
import type { TraceQuery, TraceReport } from '../datapath/trace.js';
import type { FdbEntryView, NetworkView, PeerView, PortView } from '../datapath/views.js';
import type { LearnConflictView } from '../datapath/provisional-moves.js';
import type { PolicerSpec } from '../datapath/token-bucket.js';
import type { MirrorConfig, MirrorView } from '../datapath/mirror.js';
import type { DatapathListener, DatapathProvider, PortDeviceUse } from './provider.js';

/**
 * The userspace provider: today's pipeline (datapath/DataPath), unchanged,
 * behind the provider interface. Frames are read from TAPs and AF_PACKET
 * sockets and tunnelled over this process's own UDP sockets (one per encap,
 * attached with `dataPath.attachSocket`).
 */
export class UserspaceProvider implements DatapathProvider {
  readonly kind = 'userspace' as const;
  readonly dataPath: DataPath;

  constructor(options: DataPathOptions = {}) {
    this.dataPath = new DataPath(options);
  }

  check(changes: readonly TableChange[]): RejectedChange[] {
    return checkBatch(changes, new Set(this.dataPath.networkViews().map((n) => n.vni)));
  }

  apply(changes: readonly TableChange[]): ApplyResult {
    return this.dataPath.apply(changes);
  }

  start(): void {
    this.dataPath.start();
  }

  stop(): void {
    this.dataPath.stop();
  }

  tablesLoaded(): void {
    // The pipeline's tables live in this process: nothing outlives it.
  }

  portDeviceUse(): PortDeviceUse {
    return 'frames';
  }

  addPort(spec: PortSpec, device: FrameDevice, counters?: TrafficCounters): void {
    this.dataPath.addPort(spec, device, counters);
  }

  removePort(name: string): FrameDevice {
    return this.dataPath.removePort(name);
  }

  hasPort(name: string): boolean {
    return this.dataPath.hasPort(name);
  }

  addStaticLocal(vni: number, mac: number, portName: string): void {
    this.dataPath.addStaticLocal(vni, mac, portName);
  }

  injectFrame(portName: string, frame: Uint8Array): void {
    this.dataPath.injectFrame(portName, frame);
  }

  hasNetwork(vni: number): boolean {
    return this.dataPath.hasNetwork(vni);
  }

  fdbEntries(vni?: number): FdbEntryView[] {
    return this.dataPath.fdbEntries(vni);
  }

  flushFdb(vni?: number): number {
    return this.dataPath.flushFdb(vni);
  }

  portViews(): PortView[] {
    return this.dataPath.portViews();
  }

  peerViews(): PeerView[] {
    return this.dataPath.peerViews();
  }

  networkViews(): NetworkView[] {
    return this.dataPath.networkViews();
  }

  counters(): CountersSnapshot {
    return this.dataPath.counters();
  }

  setPortPolicer(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    this.dataPath.setPortPolicer(name, direction, spec);
  }

  setMirrors(config: MirrorConfig): void {
    this.dataPath.setMirrors(config);
  }

  mirrorViews(): MirrorView[] {
    return this.dataPath.mirrorViews();
  }

  tableDigest(vni: number): VniDigest | null {
    return this.dataPath.tableDigest(vni);
  }

  controlEntries(vni: number): Map<string, VtepRecord> | null {
    return this.dataPath.controlEntries(vni);
  }

  learnConflicts(windowMs?: number): LearnConflictView[] {
    return this.dataPath.learnConflicts(windowMs);
  }

  setControlPlaneUp(up: boolean): void {
    this.dataPath.setControlPlaneUp(up);
  }

  trace(query: TraceQuery): TraceReport {
    return this.dataPath.trace(query);
  }

  setProbeHandler(handler: ProbeHandler | null): void {
    this.dataPath.setProbeHandler(handler);
  }

  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean {
    return this.dataPath.sendProbe(target, frame);
  }

  lastProbeSendError(): string | null {
    return this.dataPath.lastProbeSendError();
  }

  on<K extends keyof DataPathEvents>(event: K, listener: DatapathListener<K>): this {
    this.dataPath.on(event, listener);
    return this;
  }

  off<K extends keyof DataPathEvents>(event: K, listener: DatapathListener<K>): this {
    this.dataPath.off(event, listener);
    return this;
  }
}
