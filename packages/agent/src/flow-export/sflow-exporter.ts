/**
 * The sFlow v5 agent: every tick (off the frame loop) it drains the data
 * path's sample ring (flow-samples.ts) into flow samples and, every
 * pollingS, adds a counter sample (generic interface counters) per port;
 * datagrams of at most DATAGRAM_BYTES go to every collector, as OVS's sFlow
 * agent does.
 *
 * A flow sample carries the sampled header, the port it was taken on
 * (source id and input), the output (a port, a VTEP, or "multiple" for a
 * flood) and, for a frame that left by a tunnel, extended_vni_egress.
 */
import {
  SFLOW_OUTPUT_MULTIPLE,
  SflowDatagramBuilder,
  parseIpAddress,
  type SflowFlowSample,
  type SflowInterfaceCounters,
  type TrafficCounters,
} from '@dvs/wire';
import { FlowSampler, Peer } from '../datapath/index.js';
import { CollectorSocket } from './collector-socket.js';
import type { ResolvedCollector, SflowSettings } from './flow-export-config.js';
import type { InterfaceIndex } from './interface-index.js';

const DATAGRAM_BYTES = 1400;
/** Samples the ring holds between two ticks. */
export const SAMPLE_RING_SLOTS = 1024;

export interface SflowCounters {
  datagrams: number;
  flowSamples: number;
  counterSamples: number;
  /** Samples lost because the ring was full (summed over ports). */
  sampleDrops: number;
}

export class SflowExporter {
  readonly sampler: FlowSampler;
  readonly socket: CollectorSocket;
  private readonly builder = new SflowDatagramBuilder(Buffer.alloc(DATAGRAM_BYTES));
  private readonly agentAddress: Uint8Array;
  private readonly startedMs: number;
  private sequence = 0;
  private datagrams = 0;
  private flowSamples = 0;
  private counterSamples = 0;
  private lastPollMs: number;
  private readonly pollSequence = new Map<string, number>();
  private readonly sample: SflowFlowSample;

  constructor(
    readonly settings: SflowSettings,
    collectors: readonly ResolvedCollector[],
    agentAddress: string,
    private readonly index: InterfaceIndex,
    private readonly portCounters: () => Record<string, TrafficCounters>,
    now: number,
  ) {
    this.sampler = new FlowSampler(SAMPLE_RING_SLOTS, settings.headerBytes);
    this.sampler.rate = settings.sampling;
    this.socket = new CollectorSocket(collectors);
    this.agentAddress = agentAddressBytes(agentAddress);
    this.startedMs = now;
    this.lastPollMs = now;
    this.sample = {
      sequence: 0,
      sourceIndex: 0,
      samplingRate: settings.sampling,
      samplePool: 0,
      drops: 0,
      input: 0,
      output: 0,
      frameLength: 0,
      header: new Uint8Array(0),
      vniEgress: -1,
      vniIngress: -1,
    };
  }

  tick(now: number): void {
    const b = this.builder;
    let open = false;
    const begin = (): void => {
      b.begin({
        agentAddress: this.agentAddress,
        subAgentId: 0,
        sequence: ++this.sequence,
        uptimeMs: now - this.startedMs,
      });
      open = true;
    };
    const flush = (): void => {
      if (!open) return;
      const length = b.finish();
      if (!b.empty) {
        this.socket.send(b.buf(), length);
        this.datagrams++;
      } else this.sequence--;
      open = false;
    };
    const s = this.sampler;
    for (; s.tail < s.head; s.tail++) {
      const sample = this.fill(s.tail % s.capacity);
      if (!open) begin();
      if (!b.addFlow(sample)) {
        flush();
        begin();
        b.addFlow(sample);
      }
      this.flowSamples++;
      s.input[s.tail % s.capacity] = s.output[s.tail % s.capacity] = null;
    }
    if (this.settings.pollingS > 0 && now - this.lastPollMs >= this.settings.pollingS * 1000) {
      this.lastPollMs = now;
      for (const [name, c] of Object.entries(this.portCounters())) {
        const counters = this.counterSample(name, c);
        if (!open) begin();
        if (!b.addCounters(counters)) {
          flush();
          begin();
          b.addCounters(counters);
        }
        this.counterSamples++;
      }
    }
    flush();
  }

  counters(): SflowCounters {
    let drops = 0;
    for (const p of this.sampler.ports.values()) drops += p.drops;
    return {
      datagrams: this.datagrams,
      flowSamples: this.flowSamples,
      counterSamples: this.counterSamples,
      sampleDrops: drops,
    };
  }

  close(): void {
    this.socket.close();
  }

  private fill(slot: number): SflowFlowSample {
    const s = this.sampler;
    const r = this.sample;
    const input = s.input[slot];
    const output = s.output[slot];
    r.sequence = s.sequence[slot];
    r.sourceIndex = this.index.of(input);
    r.input = r.sourceIndex;
    r.output = output === null ? (SFLOW_OUTPUT_MULTIPLE | s.outputCount[slot]) >>> 0 : this.index.of(output);
    r.samplePool = s.pool[slot];
    r.drops = s.drops[slot];
    r.frameLength = s.frameLength[slot];
    const at = slot * s.headerBytes;
    r.header = s.headers.subarray(at, at + s.headerLength[slot]);
    r.vniEgress = output instanceof Peer ? s.vni[slot] : -1;
    return r;
  }

  private counterSample(name: string, c: TrafficCounters): SflowInterfaceCounters {
    const ifIndex = this.index.portIndex(name);
    const seq = (this.pollSequence.get(name) ?? 0) + 1;
    this.pollSequence.set(name, seq);
    return {
      sequence: seq,
      ifIndex,
      ifType: 6,
      ifSpeed: 0,
      ifDirection: 1,
      ifStatus: 3,
      inOctets: c.rxBytes,
      inUnicast: c.rxFrames,
      inMulticast: 0,
      inBroadcast: 0,
      inDiscards: 0,
      inErrors: 0,
      inUnknownProtos: 0,
      outOctets: c.txBytes,
      outUnicast: c.txFrames,
      outMulticast: 0,
      outBroadcast: 0,
      outDiscards: c.txDrops,
      outErrors: 0,
      promiscuous: 0,
    };
  }
}

/** The agent address field: the VTEP address as 4 or 16 bytes (0.0.0.0 when it is not an IP). */
function agentAddressBytes(text: string): Uint8Array {
  const parsed = parseIpAddress(text);
  if (parsed === null) return new Uint8Array(4);
  if (parsed.family === 6) return parsed.ipv6;
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, parsed.ipv4 >>> 0);
  return out;
}
