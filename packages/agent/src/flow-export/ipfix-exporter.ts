/**
 * The IPFIX exporter: every tick (off the frame loop) it expires the flow
 * cache (flow-cache.ts: idle and active timeouts), turns what ended or is
 * due into IPFIX data records (wire's IpfixMessageBuilder) and sends them to
 * the collectors in messages of at most MESSAGE_BYTES. The templates open
 * the first message and are sent again every templateRefreshS (RFC 7011
 * §8.4: over UDP, templates are resent periodically).
 */
import { FlowEndReason, IpfixMessageBuilder, L2_SEGMENT_VXLAN, type IpfixFlowRecord } from '@dvs/wire';
import { FlowCache, FlowEnd } from '../datapath/index.js';
import { CollectorSocket } from './collector-socket.js';
import type { IpfixSettings, ResolvedCollector } from './flow-export-config.js';
import type { InterfaceIndex } from './interface-index.js';

/** Fits a 1500-byte path with IPv6 and UDP headers to spare. */
const MESSAGE_BYTES = 1400;

export interface IpfixCounters {
  messages: number;
  records: number;
  templates: number;
  /** Flows that found the cache full (not recorded), and their packets and octets. */
  cacheFull: number;
  cacheFullPackets: number;
  cacheFullOctets: number;
  flows: number;
}

export class IpfixExporter {
  readonly cache: FlowCache;
  readonly socket: CollectorSocket;
  private readonly builder = new IpfixMessageBuilder(Buffer.alloc(MESSAGE_BYTES));
  private sequence = 0;
  private lastTemplateMs = -Infinity;
  private messages = 0;
  private records = 0;
  private templates = 0;
  private readonly record: IpfixFlowRecord;

  constructor(
    readonly settings: IpfixSettings,
    collectors: readonly ResolvedCollector[],
    private readonly index: InterfaceIndex,
    /** RFC 7133 segment type of a VNI's network (VXLAN or NVGRE-style). */
    private readonly segmentTypeOf: (vni: number) => number,
  ) {
    this.cache = new FlowCache(settings.cacheSize);
    this.socket = new CollectorSocket(collectors);
    this.record = {
      family: 4,
      src: new Uint8Array(4),
      dst: new Uint8Array(4),
      protocol: 0,
      srcPort: 0,
      dstPort: 0,
      vni: 0,
      segmentType: L2_SEGMENT_VXLAN,
      ingressInterface: 0,
      ingressInterfaceType: 0,
      egressInterface: 0,
      egressInterfaceType: 0,
      packets: 0,
      octets: 0,
      startMs: 0,
      endMs: 0,
      endReason: FlowEndReason.Idle,
    };
  }

  /** Expires the cache and sends what is due; `force` ends every flow (off, shutdown). */
  tick(now: number, force = false): void {
    const s = this.settings;
    const b = this.builder;
    let open = false;
    const begin = (): void => {
      b.begin({ exportTimeS: Math.floor(now / 1000), sequence: this.sequence, observationDomain: s.observationDomain });
      open = true;
      if (now - this.lastTemplateMs >= s.templateRefreshS * 1000) {
        b.templates();
        this.templates++;
        this.lastTemplateMs = now;
      }
    };
    const flush = (): void => {
      if (!open) return;
      const length = b.finish();
      this.socket.send(b.buf(), length);
      this.messages++;
      this.sequence = (this.sequence + b.records) >>> 0;
      this.records += b.records;
      open = false;
    };
    const cache = this.cache;
    if (this.socket.collectors.length === 0) {
      // Cache only (flows/show): flows still end and restart, nothing is built or counted as sent.
      cache.expire(now, s.idleTimeoutS * 1000, s.activeTimeoutS * 1000, force, () => undefined);
      return;
    }
    cache.expire(now, s.idleTimeoutS * 1000, s.activeTimeoutS * 1000, force, (e, reason) => {
      if (cache.packets[e] === 0) return;
      const r = this.fill(e, reason);
      if (!open) begin();
      if (b.add(r)) return;
      flush();
      begin();
      b.add(r);
    });
    if (!open && now - this.lastTemplateMs >= s.templateRefreshS * 1000) begin();
    flush();
  }

  counters(): IpfixCounters {
    const c = this.cache;
    return {
      messages: this.messages,
      records: this.records,
      templates: this.templates,
      cacheFull: c.full,
      cacheFullPackets: c.fullPackets,
      cacheFullOctets: c.fullOctets,
      flows: c.size,
    };
  }

  close(): void {
    this.socket.close();
  }

  private fill(e: number, reason: FlowEnd): IpfixFlowRecord {
    const c = this.cache;
    const r = this.record;
    r.family = c.family[e] === 6 ? 6 : 4;
    r.src = c.address(e, 0);
    r.dst = c.address(e, 1);
    r.protocol = c.protocol[e];
    r.srcPort = c.srcPort[e];
    r.dstPort = c.dstPort[e];
    r.vni = c.vni[e];
    r.segmentType = this.segmentTypeOf(r.vni);
    r.ingressInterface = this.index.of(c.ingress[e]);
    r.ingressInterfaceType = this.index.typeOf(c.ingress[e]);
    r.egressInterface = this.index.of(c.egress[e]);
    r.egressInterfaceType = this.index.typeOf(c.egress[e]);
    r.packets = c.packets[e];
    r.octets = c.octets[e];
    r.startMs = c.startMs[e];
    r.endMs = c.lastMs[e];
    r.endReason =
      reason === FlowEnd.Idle
        ? FlowEndReason.Idle
        : reason === FlowEnd.Active
          ? FlowEndReason.Active
          : FlowEndReason.Forced;
    return r;
  }
}
