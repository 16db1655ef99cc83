/**
 * IPFIX (RFC 7011) export messages carrying dvs's flow records.
 *
 *   message header (16): version=10, length, export time (s), sequence
 *     number (data records sent before this message), observation domain
 *   set header (4): set id (2 = template set, >= 256 = data set), length
 *   template record: template id, field count, then (IE id, length) pairs
 *   data records: the fields in template order, no padding
 *
 * Two templates, one per inner address family (the IEs are IANA's):
 *   sourceIPv4Address(8)/sourceIPv6Address(27), destination…(12/28),
 *   protocolIdentifier(4), sourceTransportPort(7), destinationTransportPort(11)
 *   (ICMP: type*256+code, as exporters and nfdump do), layer2SegmentId(351)
 *   (RFC 7133: segment type 0x01 VXLAN or 0x02 NVGRE-style key in the high
 *   byte, the VNI in the low 24 bits), ingressInterface(10),
 *   ingressInterfaceType(368), egressInterface(14), egressInterfaceType(369)
 *   (ifType 6 for a port, 131 "tunnel" for a VTEP, 0 with interface 0 for a
 *   flood), packetDeltaCount(2), octetDeltaCount(1) (IP bytes),
 *   flowStartMilliseconds(152), flowEndMilliseconds(153), flowEndReason(136).
 */
import { ExportWriter } from './export-writer.js';

export const IPFIX_VERSION = 10;
export const IPFIX_MESSAGE_HEADER_LENGTH = 16;
export const IPFIX_SET_HEADER_LENGTH = 4;
export const IPFIX_TEMPLATE_SET_ID = 2;
export const IPFIX_TEMPLATE_IPV4 = 256;
export const IPFIX_TEMPLATE_IPV6 = 257;
/** Default collector port (RFC 7011 §10.3.4 for UDP: 4739). */
export const IPFIX_DEFAULT_PORT = 4739;
/** ifType values (IANA ifType-MIB) for the interface type IEs. */
export const IF_TYPE_ETHERNET = 6;
export const IF_TYPE_TUNNEL = 131;

/** flowEndReason (IE 136) values. */
export const FlowEndReason = { Idle: 1, Active: 2, EndOfFlow: 3, Forced: 4, LackOfResources: 5 } as const;
export type FlowEndReason = (typeof FlowEndReason)[keyof typeof FlowEndReason];

/** layer2SegmentId segment types (RFC 7133 §4.11). */
export const L2_SEGMENT_VXLAN = 0x01;
export const L2_SEGMENT_NVGRE = 0x02;

/** (IE id, length) of the fields shared by both templates after the addresses. */
const COMMON_FIELDS: readonly (readonly [number, number])[] = [
  [4, 1],
  [7, 2],
  [11, 2],
  [351, 8],
  [10, 4],
  [368, 4],
  [14, 4],
  [369, 4],
  [2, 8],
  [1, 8],
  [152, 8],
  [153, 8],
  [136, 1],
];
const IPV4_FIELDS = [[8, 4] as const, [12, 4] as const, ...COMMON_FIELDS];
const IPV6_FIELDS = [[27, 16] as const, [28, 16] as const, ...COMMON_FIELDS];
const recordLength = (fields: readonly (readonly [number, number])[]): number =>
  fields.reduce((sum, [, len]) => sum + len, 0);
export const IPFIX_IPV4_RECORD_LENGTH = recordLength(IPV4_FIELDS);
export const IPFIX_IPV6_RECORD_LENGTH = recordLength(IPV6_FIELDS);
/** The template set with both templates. */
export const IPFIX_TEMPLATE_SET_LENGTH =
  IPFIX_SET_HEADER_LENGTH + 4 + IPV4_FIELDS.length * 4 + 4 + IPV6_FIELDS.length * 4;

/** One flow record as the exporter hands it over (off the per-frame path). */
export interface IpfixFlowRecord {
  family: 4 | 6;
  /** 4 or 16 bytes, per family. */
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  srcPort: number;
  dstPort: number;
  vni: number;
  /** L2_SEGMENT_VXLAN or L2_SEGMENT_NVGRE. */
  segmentType: number;
  ingressInterface: number;
  ingressInterfaceType: number;
  egressInterface: number;
  egressInterfaceType: number;
  packets: number;
  octets: number;
  startMs: number;
  endMs: number;
  endReason: FlowEndReason;
}

export interface IpfixMessageHeader {
  exportTimeS: number;
  /** Data records sent in earlier messages of this observation domain (mod 2^32). */
  sequence: number;
  observationDomain: number;
}

/**
 * Builds one IPFIX message in a caller-owned buffer (its length is the
 * message size limit, e.g. 1400 for a path MTU of 1500). Use:
 * begin(); [templates()]; add(record) until it returns false; finish().
 */
export class IpfixMessageBuilder {
  private readonly w: ExportWriter;
  private setStart = -1;
  private setId = -1;
  /** Data records in the message so far. */
  records = 0;

  constructor(buf: Buffer) {
    this.w = new ExportWriter(buf);
  }

  /** The buffer the message is built in. */
  buf(): Buffer {
    return this.w.buf;
  }

  begin(header: IpfixMessageHeader): void {
    const w = this.w;
    w.offset = 0;
    this.records = 0;
    this.setStart = -1;
    this.setId = -1;
    w.u16(IPFIX_VERSION);
    w.u16(0);
    w.u32(header.exportTimeS);
    w.u32(header.sequence);
    w.u32(header.observationDomain);
  }

  /** Adds the template set (both templates); false if it does not fit. */
  templates(): boolean {
    this.closeSet();
    const w = this.w;
    if (!w.fits(IPFIX_TEMPLATE_SET_LENGTH)) return false;
    w.u16(IPFIX_TEMPLATE_SET_ID);
    w.u16(IPFIX_TEMPLATE_SET_LENGTH);
    for (const [id, fields] of [
      [IPFIX_TEMPLATE_IPV4, IPV4_FIELDS],
      [IPFIX_TEMPLATE_IPV6, IPV6_FIELDS],
    ] as const) {
      w.u16(id);
      w.u16(fields.length);
      for (const [ie, len] of fields) {
        w.u16(ie);
        w.u16(len);
      }
    }
    return true;
  }

  /** Adds one data record (opening a data set of its template when needed); false if it does not fit. */
  add(r: IpfixFlowRecord): boolean {
    const template = r.family === 4 ? IPFIX_TEMPLATE_IPV4 : IPFIX_TEMPLATE_IPV6;
    const length = r.family === 4 ? IPFIX_IPV4_RECORD_LENGTH : IPFIX_IPV6_RECORD_LENGTH;
    const w = this.w;
    const opening = this.setId !== template;
    if (!w.fits(length + (opening ? IPFIX_SET_HEADER_LENGTH : 0))) return false;
    if (opening) {
      this.closeSet();
      this.setStart = w.offset;
      this.setId = template;
      w.u16(template);
      w.u16(0);
    }
    w.bytes(r.src);
    w.bytes(r.dst);
    w.u8(r.protocol);
    w.u16(r.srcPort);
    w.u16(r.dstPort);
    w.u32((r.segmentType & 0xff) << 24);
    w.u32(r.vni & 0xffffff);
    w.u32(r.ingressInterface);
    w.u32(r.ingressInterfaceType);
    w.u32(r.egressInterface);
    w.u32(r.egressInterfaceType);
    w.u64(r.packets);
    w.u64(r.octets);
    w.u64(r.startMs);
    w.u64(r.endMs);
    w.u8(r.endReason);
    this.records++;
    return true;
  }

  /** Closes the message; returns its length (bytes 0..length of the buffer are the message). */
  finish(): number {
    this.closeSet();
    this.w.patchU16(2, this.w.offset);
    return this.w.offset;
  }

  private closeSet(): void {
    if (this.setStart >= 0) this.w.patchU16(this.setStart + 2, this.w.offset - this.setStart);
    this.setStart = -1;
    this.setId = -1;
  }
}
