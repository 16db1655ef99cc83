/**
 * Flow export of one agent: the sFlow agent and the IPFIX exporter, the
 * flow tap they share in the userspace data path, and the top-talkers view
 * (`flows/show`) read from the IPFIX flow cache.
 *
 * Settings change atomically: the new settings are checked and the
 * collectors resolved first; a bad field or a collector that does not
 * resolve throws FlowExportError and the running export is untouched.
 * One timer (off the frame loop) drives both exporters: sFlow drains its
 * sample ring every TICK_MS, IPFIX expires its cache every IPFIX_TICK_MS.
 */
import {
  L2_SEGMENT_NVGRE,
  L2_SEGMENT_VXLAN,
  formatIpv4Address,
  formatIpv6Address,
  type Encap,
  type TrafficCounters,
} from '@dvs/wire';
import { FlowTap, type DataPath } from '../datapath/index.js';
import { checkIpfixSettings, checkSflowSettings } from '@dvs/wire';
import {
  resolveCollectors,
  type IpfixSettings,
  type ResolvedCollector,
  type SflowSettings,
} from './flow-export-config.js';
import { InterfaceIndex, type FlowEndpointView } from './interface-index.js';
import { IpfixExporter, type IpfixCounters } from './ipfix-exporter.js';
import { SflowExporter, type SflowCounters } from './sflow-exporter.js';
import type { SendCounters } from './collector-socket.js';

const TICK_MS = 250;
const IPFIX_TICK_MS = 1000;

export interface FlowExportOptions {
  dataPath: DataPath;
  /** The agent's address in sFlow datagrams (its VTEP address). */
  agentAddress: string;
  portCounters: () => Record<string, TrafficCounters>;
  /** The encap of a VNI's network (the IPFIX segment type). */
  encapOf: (vni: number) => Encap | undefined;
  now?: () => number;
}

export interface SflowView {
  settings: SflowSettings | null;
  collectors: ResolvedCollector[];
  counters: (SflowCounters & SendCounters) | null;
}

export interface IpfixView {
  settings: IpfixSettings | null;
  collectors: ResolvedCollector[];
  counters: (IpfixCounters & SendCounters) | null;
}

export interface FlowView {
  vni: number;
  protocol: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  packets: number;
  octets: number;
  startMs: number;
  lastMs: number;
  ingress: FlowEndpointView;
  egress: FlowEndpointView;
}

export class FlowExport {
  readonly index = new InterfaceIndex();
  private readonly tap = new FlowTap();
  private sflow: SflowExporter | null = null;
  private ipfix: IpfixExporter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastIpfixMs = 0;
  private readonly now: () => number;

  constructor(private readonly o: FlowExportOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Turns sFlow on with `settings` (or off with null); throws FlowExportError, changing nothing. */
  async setSflow(settings: SflowSettings | null, signal?: AbortSignal): Promise<SflowView> {
    if (settings !== null) checkSflowSettings(settings, 'sflow');
    const resolved = settings === null ? [] : await resolveCollectors(settings.collectors, 'sflow.collectors', signal);
    this.sflow?.close();
    this.sflow =
      settings === null
        ? null
        : new SflowExporter(settings, resolved, this.o.agentAddress, this.index, this.o.portCounters, this.now());
    this.tap.sampler = this.sflow?.sampler ?? null;
    this.tap.reset();
    this.rearm();
    return this.sflowView();
  }

  /** Turns IPFIX on (collectors may be empty: the cache only, for `flows/show`) or off; throws FlowExportError, changing nothing. */
  async setIpfix(settings: IpfixSettings | null, signal?: AbortSignal): Promise<IpfixView> {
    if (settings !== null) checkIpfixSettings(settings, 'ipfix');
    const resolved = settings === null ? [] : await resolveCollectors(settings.collectors, 'ipfix.collectors', signal);
    if (this.ipfix !== null) {
      // What the old cache holds is reported before it goes.
      this.ipfix.tick(this.now(), true);
      this.ipfix.close();
    }
    this.ipfix =
      settings === null
        ? null
        : new IpfixExporter(settings, resolved, this.index, (vni) =>
            this.o.encapOf(vni) === 'gre-udp' ? L2_SEGMENT_NVGRE : L2_SEGMENT_VXLAN,
          );
    this.tap.cache = this.ipfix?.cache ?? null;
    this.rearm();
    return this.ipfixView();
  }

  sflowView(): SflowView {
    const e = this.sflow;
    if (e === null) return { settings: null, collectors: [], counters: null };
    return {
      settings: e.settings,
      collectors: [...e.socket.collectors],
      counters: { ...e.counters(), ...e.socket.counters },
    };
  }

  ipfixView(): IpfixView {
    const e = this.ipfix;
    if (e === null) return { settings: null, collectors: [], counters: null };
    return {
      settings: e.settings,
      collectors: [...e.socket.collectors],
      counters: { ...e.counters(), ...e.socket.counters },
    };
  }

  /** Whether the flow cache is on (IPFIX on, with or without collectors). */
  get caching(): boolean {
    return this.ipfix !== null;
  }

  /** The `top` flows by octets in the cache now, of one VNI or all. */
  topTalkers(vni: number | undefined, top: number): FlowView[] {
    const e = this.ipfix;
    if (e === null) return [];
    const c = e.cache;
    const out: FlowView[] = [];
    for (const k of c.entries()) {
      if (vni !== undefined && c.vni[k] !== vni) continue;
      out.push({
        vni: c.vni[k],
        protocol: c.protocol[k],
        src: addressText(c.address(k, 0)),
        dst: addressText(c.address(k, 1)),
        srcPort: c.srcPort[k],
        dstPort: c.dstPort[k],
        packets: c.packets[k],
        octets: c.octets[k],
        startMs: c.startMs[k],
        lastMs: c.lastMs[k],
        ingress: this.index.view(c.ingress[k]),
        egress: this.index.view(c.egress[k]),
      });
    }
    return out.sort((a, b) => b.octets - a.octets || b.packets - a.packets).slice(0, top);
  }

  /** Reports every cached flow (forced end) and stops both exporters. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.o.dataPath.setFlowTap(null);
    this.ipfix?.tick(this.now(), true);
    this.ipfix?.close();
    this.sflow?.close();
    this.ipfix = this.sflow = null;
  }

  private rearm(): void {
    const on = this.sflow !== null || this.ipfix !== null;
    this.o.dataPath.setFlowTap(on ? this.tap : null);
    if (on && this.timer === null) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    } else if (!on && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    const now = this.now();
    this.sflow?.tick(now);
    if (this.ipfix !== null && now - this.lastIpfixMs >= IPFIX_TICK_MS) {
      this.lastIpfixMs = now;
      this.ipfix.tick(now);
    }
  }
}

function addressText(bytes: Uint8Array): string {
  if (bytes.length === 16) return formatIpv6Address(bytes, 0);
  return formatIpv4Address(new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0));
}
