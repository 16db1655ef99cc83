/**
 * sFlow version 5 datagrams (sflow.org/sflow_version_5.txt, XDR encoded:
 * big-endian 32-bit words, opaque data padded to 4 bytes).
 *
 *   datagram: version=5, agent address (type 1 IPv4 | 2 IPv6, address),
 *     sub-agent id, sequence number, uptime (ms), sample count, samples
 *   sample: data format (enterprise<<12 | format), length, body
 *     flow sample (0:1): sequence, source id (type<<24 | index), sampling
 *       rate, sample pool, drops, input, output (0x80000000|n: n ports,
 *       0: unknown), record count, flow records
 *     counter sample (0:2): sequence, source id, record count, records
 *   flow records: raw packet header (0:1: protocol 1 = Ethernet, frame
 *     length, stripped, header length, header bytes); from the sFlow tunnel
 *     structures (sflow.org/sflow_tunnels.txt) extended_vni_egress (0:1029)
 *     and extended_vni_ingress (0:1030), each one word: the VNI
 *   counter records: generic interface counters (0:1, 88 bytes)
 */
import { ExportWriter } from './export-writer.js';

export const SFLOW_VERSION = 5;
/** Default collector port (sFlow v5 §: 6343). */
export const SFLOW_DEFAULT_PORT = 6343;
export const SFLOW_FLOW_SAMPLE = 1;
export const SFLOW_COUNTER_SAMPLE = 2;
export const SFLOW_RAW_HEADER = 1;
export const SFLOW_HEADER_PROTOCOL_ETHERNET = 1;
export const SFLOW_EXTENDED_VNI_EGRESS = 1029;
export const SFLOW_EXTENDED_VNI_INGRESS = 1030;
export const SFLOW_GENERIC_INTERFACE_COUNTERS = 1;
export const SFLOW_GENERIC_INTERFACE_COUNTERS_LENGTH = 88;
/** The usual sampled header size (OVS and hsflowd default: 128 bytes). */
export const SFLOW_DEFAULT_HEADER_BYTES = 128;
/** `output` of a flow sample sent to several ports: this bit with the port count. */
export const SFLOW_OUTPUT_MULTIPLE = 0x80000000;
const DATAGRAM_HEADER_V4 = 28;

export interface SflowDatagramHeader {
  /** 4 (IPv4) or 16 (IPv6) bytes: the agent's address. */
  agentAddress: Uint8Array;
  subAgentId: number;
  sequence: number;
  uptimeMs: number;
}

export interface SflowFlowSample {
  sequence: number;
  /** ifIndex of the port the sample was taken on (source id type 0). */
  sourceIndex: number;
  samplingRate: number;
  /** Frames that could have been sampled on the port so far. */
  samplePool: number;
  /** Samples lost for want of resources (the sample ring was full). */
  drops: number;
  input: number;
  output: number;
  frameLength: number;
  /** The first bytes of the frame (padding added here). */
  header: Uint8Array;
  /** VNI of the tunnel the frame left by (-1: none). */
  vniEgress: number;
  /** VNI of the tunnel the frame came in by (-1: none). */
  vniIngress: number;
}

export interface SflowInterfaceCounters {
  sequence: number;
  ifIndex: number;
  ifType: number;
  /** bit/s; 0 when unknown. */
  ifSpeed: number;
  /** 1 full duplex. */
  ifDirection: number;
  /** bit 0 admin up, bit 1 oper up. */
  ifStatus: number;
  inOctets: number;
  inUnicast: number;
  inMulticast: number;
  inBroadcast: number;
  inDiscards: number;
  inErrors: number;
  inUnknownProtos: number;
  outOctets: number;
  outUnicast: number;
  outMulticast: number;
  outBroadcast: number;
  outDiscards: number;
  outErrors: number;
  promiscuous: number;
}

/** Bytes a flow sample takes in a datagram. */
export function sflowFlowSampleLength(s: SflowFlowSample): number {
  let records = 8 + 16 + ((s.header.length + 3) & ~3);
  if (s.vniEgress >= 0) records += 12;
  if (s.vniIngress >= 0) records += 12;
  return 8 + 32 + records;
}

export const SFLOW_COUNTER_SAMPLE_LENGTH = 8 + 12 + 8 + SFLOW_GENERIC_INTERFACE_COUNTERS_LENGTH;

/**
 * Builds one sFlow datagram in a caller-owned buffer (its length is the size
 * limit). begin(); addFlow()/addCounters() until one returns false; finish().
 */
export class SflowDatagramBuilder {
  private readonly w: ExportWriter;
  private countAt = 0;
  samples = 0;

  constructor(buf: Buffer) {
    this.w = new ExportWriter(buf);
  }

  /** The buffer the datagram is built in. */
  buf(): Buffer {
    return this.w.buf;
  }

  begin(h: SflowDatagramHeader): void {
    const w = this.w;
    w.offset = 0;
    this.samples = 0;
    w.u32(SFLOW_VERSION);
    w.u32(h.agentAddress.length === 16 ? 2 : 1);
    w.bytes(h.agentAddress);
    w.u32(h.subAgentId);
    w.u32(h.sequence);
    w.u32(h.uptimeMs);
    this.countAt = w.offset;
    w.u32(0);
  }

  addFlow(s: SflowFlowSample): boolean {
    const total = sflowFlowSampleLength(s);
    const w = this.w;
    if (!w.fits(total)) return false;
    w.u32(SFLOW_FLOW_SAMPLE);
    w.u32(total - 8);
    w.u32(s.sequence);
    w.u32(s.sourceIndex & 0xffffff);
    w.u32(s.samplingRate);
    w.u32(s.samplePool);
    w.u32(s.drops);
    w.u32(s.input);
    w.u32(s.output);
    w.u32(1 + (s.vniEgress >= 0 ? 1 : 0) + (s.vniIngress >= 0 ? 1 : 0));
    const padded = (s.header.length + 3) & ~3;
    w.u32(SFLOW_RAW_HEADER);
    w.u32(16 + padded);
    w.u32(SFLOW_HEADER_PROTOCOL_ETHERNET);
    w.u32(s.frameLength);
    w.u32(0);
    w.u32(s.header.length);
    w.bytes(s.header);
    w.pad4();
    for (const [format, vni] of [
      [SFLOW_EXTENDED_VNI_EGRESS, s.vniEgress],
      [SFLOW_EXTENDED_VNI_INGRESS, s.vniIngress],
    ] as const) {
      if (vni < 0) continue;
      w.u32(format);
      w.u32(4);
      w.u32(vni);
    }
    this.samples++;
    return true;
  }

  addCounters(c: SflowInterfaceCounters): boolean {
    const w = this.w;
    if (!w.fits(SFLOW_COUNTER_SAMPLE_LENGTH)) return false;
    w.u32(SFLOW_COUNTER_SAMPLE);
    w.u32(SFLOW_COUNTER_SAMPLE_LENGTH - 8);
    w.u32(c.sequence);
    w.u32(c.ifIndex & 0xffffff);
    w.u32(1);
    w.u32(SFLOW_GENERIC_INTERFACE_COUNTERS);
    w.u32(SFLOW_GENERIC_INTERFACE_COUNTERS_LENGTH);
    w.u32(c.ifIndex);
    w.u32(c.ifType);
    w.u64(c.ifSpeed);
    w.u32(c.ifDirection);
    w.u32(c.ifStatus);
    w.u64(c.inOctets);
    w.u32(c.inUnicast);
    w.u32(c.inMulticast);
    w.u32(c.inBroadcast);
    w.u32(c.inDiscards);
    w.u32(c.inErrors);
    w.u32(c.inUnknownProtos);
    w.u64(c.outOctets);
    w.u32(c.outUnicast);
    w.u32(c.outMulticast);
    w.u32(c.outBroadcast);
    w.u32(c.outDiscards);
    w.u32(c.outErrors);
    w.u32(c.promiscuous);
    this.samples++;
    return true;
  }

  /** Writes the sample count; returns the datagram's length. */
  finish(): number {
    this.w.patchU32(this.countAt, this.samples);
    return this.w.offset;
  }

  /** Whether the datagram holds nothing beyond its header. */
  get empty(): boolean {
    return this.samples === 0;
  }
}

export const SFLOW_DATAGRAM_HEADER_LENGTH_IPV4 = DATAGRAM_HEADER_V4;
