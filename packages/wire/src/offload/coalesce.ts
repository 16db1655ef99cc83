// Coalescing in userspace (GRO, as the kernel's tcp_gro_receive and
// wireguard-go's tcpGRO do): consecutive TCP segments of one flow, as they
// come out of the tunnel, are glued back into one super-frame that goes to
// the TAP with a virtio-net header (GSO_TCPV4/GSO_TCPV6, NEEDS_CSUM), so the
// kernel behind the TAP pays its per-packet cost once per super-frame.
//
// The spec of the table:
//   key       (context, Ethernet header, IP addresses, TCP ports). `context`
//             is the caller's number for "from this source, to this port":
//             frames of different contexts never merge.
//   merge     a frame joins its flow's open run when: it is TCP over IPv4
//             without options and not a fragment, or over IPv6 without
//             extension headers; it carries payload; its flags are the run's
//             (ACK, maybe ECE) plus at most PSH/FIN; seq = the run's next;
//             IP TOS/DF/TTL (IPv6 traffic class/flow label/hop limit), ACK
//             number, window and TCP options (byte for byte, timestamps
//             included) equal the run's; payload <= the run's gso_size; the
//             IP length stays <= maxIpLength; and both its and (on the first
//             merge) the run's first frame's checksums verify.
//   close     a run ends with a shorter segment, PSH or FIN, when no further
//             full segment would fit, and when a frame of its flow arrives
//             that does not join it (out of order, a pure ACK, other options,
//             a bad checksum, …). A closed run is never appended to again.
//   open      a frame that joins nothing opens a run when it could be the
//             first of one: ACK set; SYN, RST, URG, CWR, PSH, FIN clear;
//             payload > 0. (CWR must reach the receiver on its own, as the
//             kernel's GRO flushes on it; PSH and FIN end a run at once.)
//   size      at most maxFlows open runs (the least recently extended one
//             is closed to make room), at most maxSuperFrames runs of two or
//             more frames per flush (further merges are refused: frames pass
//             unchanged), at most maxFrames pushes per flush.
//   order     flush() hands every pushed frame back in push order, merged
//             ones inside the super-frame that stands at its first frame's
//             place: no frame of a flow overtakes another.
//
// No allocation per frame: runs live in typed arrays; a run's first frame is
// referenced where the caller keeps it and copied into a super-frame buffer
// only when a second frame joins.

import { foldChecksum, internetChecksum } from '../frames/checksum.js';
import { IP_PROTOCOL_TCP, IPV4_CHECKSUM_OFFSET, ipv4PseudoHeaderSumAt } from '../frames/ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6PseudoHeaderSum } from '../frames/ipv6.js';
import { VLAN_HEADER_LENGTH } from '../frames/vlan.js';
import {
  TCP_CHECKSUM_OFFSET,
  TCP_FLAGS_OFFSET,
  TCP_FLAG_ACK,
  TCP_FLAG_ECE,
  TCP_FLAG_FIN,
  TCP_FLAG_PSH,
  TCP_SEQ_OFFSET,
  readTcpHeaderLength,
} from '../frames/tcp.js';
import { copyBytes } from './byte-copy.js';
import { sameSegmentHeaders, sameTcpFlow, tcpFrameChecksumsValid } from './coalesce-match.js';
import { flowHashOfLayout } from './flow-hash.js';
import { FrameLayout, parseFrameLayout } from './frame-layout.js';
import { OffloadOptionsError, integerOption } from './offload-options-error.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_LENGTH,
  VIRTIO_NET_HDR_MRG_RXBUF_LENGTH,
  type VirtioNetHeaderFields,
  writeVirtioNetHeader,
} from './virtio-net-header.js';

/** push() result: no room for another frame before flush(); nothing recorded. */
export const COALESCE_FULL = -1;
/** push() result: the frame stands on its own in the output (it may still become a run's first frame). */
export const COALESCE_OWN = 0;
/** push() result: the frame joined an earlier frame's super-frame. */
export const COALESCE_MERGED = 1;

export interface TcpCoalescerOptions {
  /** Pushes between two flushes (the receive batch size). Default 256. */
  maxFrames?: number;
  /** Runs open at once. Default 16. */
  maxFlows?: number;
  /** Super-frames per flush (each owns a buffer of headerLength + 18 + maxIpLength bytes). Default 8. */
  maxSuperFrames?: number;
  /** The TAP's virtio-net header length, 10 or 12. Default 10. */
  headerLength?: number;
  /** Largest IP packet a super-frame may hold (IPv4 total length; IPv6 40 + payload length). Default 65535. */
  maxIpLength?: number;
  /**
   * Where super-frames are built (maxSuperFrames × (headerLength + 18 +
   * maxIpLength) bytes). Default: allocated here. A view of the receive
   * batch's own ArrayBuffer makes every copy a memmove.
   */
  storage?: Uint8Array;
}

/** Where flush() delivers, in push order. Both calls run synchronously; buffers are reused after flush(). */
export interface CoalescedFrameSink {
  /** Deliver pushed frame `index` unchanged (behind an all-zero virtio-net header). */
  frame(index: number): void;
  /**
   * Deliver a super-frame: buf[off, off+length) is the virtio-net header
   * followed by the frame. `index` is its first frame's push index (the
   * caller's key for routing it); `segments` the frames it merged.
   */
  superFrame(index: number, buf: Uint8Array, off: number, length: number, segments: number): void;
}

/** Coalescing counters since construction. */
export interface TcpCoalescerStats {
  pushed: number;
  merged: number;
  superFrames: number;
  /** Frames (or runs' first frames) refused a merge because a checksum did not verify. */
  badChecksums: number;
}

const OPEN_FORBIDDEN = ~(TCP_FLAG_ACK | TCP_FLAG_ECE) & 0xff;
const APPEND_DONE = 1;
const APPEND_REFUSED = 0;
/** The frame's own checksum failed: it must not start a run either. */
const APPEND_DAMAGED = -1;
const RUN_ENDING = TCP_FLAG_PSH | TCP_FLAG_FIN;

export class TcpCoalescer {
  readonly headerLength: number;
  readonly maxIpLength: number;
  readonly stats: TcpCoalescerStats = { pushed: 0, merged: 0, superFrames: 0, badChecksums: 0 };
  private readonly storage: Uint8Array;
  private readonly slotBytes: number;
  private readonly maxSuperFrames: number;
  private usedSlots = 0;
  private pushes = 0;
  private readonly layout = new FrameLayout();
  private readonly outHeader: VirtioNetHeaderFields = {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType: 0,
    hdrLen: 0,
    gsoSize: 0,
    csumStart: 0,
    csumOffset: TCP_CHECKSUM_OFFSET,
    numBuffers: 0,
  };

  // Output entries, one per frame that did not merge, in push order.
  private entries = 0;
  private readonly entryIndex: Int32Array;
  private readonly entrySlot: Int32Array;
  private readonly entrySegments: Int32Array;
  /** Frame bytes from the Ethernet header to the end of the IP packet. */
  private readonly entryLength: Int32Array;
  private readonly entryL2: Uint8Array;
  private readonly entryL4: Uint8Array;
  private readonly entryHeaders: Uint8Array;
  private readonly entryGsoSize: Int32Array;
  private readonly entryVersion: Uint8Array;
  private readonly entryEndFlags: Uint8Array;

  // Open runs.
  private readonly flowEntry: Int32Array;
  private readonly flowHash: Int32Array;
  private readonly flowContext: Float64Array;
  private readonly flowBuf: (Uint8Array | null)[];
  private readonly flowOff: Int32Array;
  /** The next expected sequence number, in 16-bit halves (see setNextSeq). */
  private readonly flowNextSeqHigh: Int32Array;
  private readonly flowNextSeqLow: Int32Array;
  private readonly flowFlags: Uint8Array;
  private readonly flowTouched: Float64Array;

  constructor(options: TcpCoalescerOptions = {}) {
    const maxFrames = integerOption('maxFrames', options.maxFrames, 256, 1, 65536);
    const maxFlows = integerOption('maxFlows', options.maxFlows, 16, 1, 1024);
    this.maxSuperFrames = integerOption('maxSuperFrames', options.maxSuperFrames, 8, 1, 1024);
    this.headerLength = integerOption('headerLength', options.headerLength, VIRTIO_NET_HDR_LENGTH, 10, 12);
    if (this.headerLength !== VIRTIO_NET_HDR_LENGTH && this.headerLength !== VIRTIO_NET_HDR_MRG_RXBUF_LENGTH) {
      throw new OffloadOptionsError('headerLength', `must be 10 or 12, got ${this.headerLength}`);
    }
    this.maxIpLength = integerOption('maxIpLength', options.maxIpLength, 0xffff, 1280, 0xffff);
    this.slotBytes = this.headerLength + VLAN_HEADER_LENGTH + this.maxIpLength;
    const storageBytes = this.maxSuperFrames * this.slotBytes;
    if (options.storage !== undefined && !(options.storage.length >= storageBytes)) {
      throw new OffloadOptionsError('storage', `needs ${storageBytes} bytes, got ${options.storage.length}`);
    }
    this.storage = options.storage ?? new Uint8Array(storageBytes);
    this.entryIndex = new Int32Array(maxFrames);
    this.entrySlot = new Int32Array(maxFrames);
    this.entrySegments = new Int32Array(maxFrames);
    this.entryLength = new Int32Array(maxFrames);
    this.entryL2 = new Uint8Array(maxFrames);
    this.entryL4 = new Uint8Array(maxFrames);
    this.entryHeaders = new Uint8Array(maxFrames);
    this.entryGsoSize = new Int32Array(maxFrames);
    this.entryVersion = new Uint8Array(maxFrames);
    this.entryEndFlags = new Uint8Array(maxFrames);
    this.flowEntry = new Int32Array(maxFlows).fill(-1);
    this.flowHash = new Int32Array(maxFlows);
    this.flowContext = new Float64Array(maxFlows);
    this.flowBuf = new Array<Uint8Array | null>(maxFlows).fill(null);
    this.flowOff = new Int32Array(maxFlows);
    this.flowNextSeqHigh = new Int32Array(maxFlows);
    this.flowNextSeqLow = new Int32Array(maxFlows);
    this.flowFlags = new Uint8Array(maxFlows);
    this.flowTouched = new Float64Array(maxFlows);
  }

  /** Frames pushed since the last flush. */
  get pending(): number {
    return this.pushes;
  }

  /**
   * Offers the frame buf[off, off+length) (an inner frame, no virtio-net
   * header), known to the caller as `index`. Contract: the frame's bytes stay
   * as they are until flush() returns. Returns COALESCE_MERGED,
   * COALESCE_OWN, or COALESCE_FULL (nothing recorded: flush, then push it
   * again). Never throws, never reads outside buf[off, off+length).
   */
  push(buf: Uint8Array, off: number, length: number, context: number, index: number): number {
    if (this.entries === this.entryIndex.length) return COALESCE_FULL;
    this.pushes++;
    this.stats.pushed++;
    const layout = this.layout;
    const avail = Math.min(length, buf.length - off);
    if (!(off >= 0) || !parseFrameLayout(buf, off, avail, layout) || layout.protocol !== IP_PROTOCOL_TCP) {
      return this.addEntry(index);
    }
    if (layout.fragment) return this.addEntry(index);
    const l4 = layout.l4Offset;
    const tcpHeaderLength = readTcpHeaderLength(buf, off + l4, layout.l4Length);
    if (tcpHeaderLength < 0) return this.addEntry(index);
    const hash = flowHashOfLayout(buf, off, layout, 0) | 0;
    const flow = this.findFlow(buf, off, layout, hash, context);
    const payload = layout.l4Length - tcpHeaderLength;
    const flags = buf[off + l4 + TCP_FLAGS_OFFSET];
    const candidate = payload > 0 && (layout.ipVersion === 6 || layout.ipHeaderLength === 20);
    let damaged = false;
    if (flow >= 0) {
      const appended = candidate ? this.tryAppend(flow, buf, off, tcpHeaderLength, payload, flags) : APPEND_REFUSED;
      if (appended === APPEND_DONE) return COALESCE_MERGED;
      damaged = appended === APPEND_DAMAGED;
      this.closeFlow(flow);
    }
    const entry = this.entries;
    const result = this.addEntry(index);
    if (candidate && !damaged && (flags & OPEN_FORBIDDEN) === 0 && (flags & TCP_FLAG_ACK) !== 0) {
      this.entryL2[entry] = layout.l2Length;
      this.entryL4[entry] = l4;
      this.entryHeaders[entry] = l4 + tcpHeaderLength;
      this.entryGsoSize[entry] = payload;
      this.entryVersion[entry] = layout.ipVersion;
      this.entryLength[entry] = layout.l2Length + layout.ipLength;
      this.openFlow(entry, buf, off, hash, context, payload, flags);
    }
    return result;
  }

  /**
   * Hands every frame pushed since the last flush to `sink`, in push order
   * (see CoalescedFrameSink), and empties the table. The super-frames'
   * buffers are reused by the next push.
   */
  flush(sink: CoalescedFrameSink): void {
    try {
      for (let e = 0; e < this.entries; e++) {
        const segments = this.entrySegments[e];
        if (segments < 2) {
          sink.frame(this.entryIndex[e]);
          continue;
        }
        const base = this.entrySlot[e] * this.slotBytes;
        this.finishSuperFrame(e, base);
        this.stats.superFrames++;
        sink.superFrame(this.entryIndex[e], this.storage, base, this.headerLength + this.entryLength[e], segments);
      }
    } finally {
      this.reset();
    }
  }

  /** Forgets everything pushed since the last flush, delivering nothing. */
  reset(): void {
    this.entries = 0;
    this.pushes = 0;
    this.usedSlots = 0;
    this.flowEntry.fill(-1);
    this.flowBuf.fill(null);
  }

  private addEntry(index: number): number {
    const e = this.entries++;
    this.entryIndex[e] = index;
    this.entrySlot[e] = -1;
    this.entrySegments[e] = 1;
    this.entryEndFlags[e] = 0;
    return COALESCE_OWN;
  }

  private findFlow(buf: Uint8Array, off: number, layout: FrameLayout, hash: number, context: number): number {
    for (let f = 0; f < this.flowEntry.length; f++) {
      const e = this.flowEntry[f];
      if (e < 0 || this.flowHash[f] !== hash || this.flowContext[f] !== context) continue;
      if (this.entryL2[e] !== layout.l2Length || this.entryVersion[e] !== layout.ipVersion) continue;
      if (this.entryL4[e] !== layout.l4Offset) continue;
      const runBuf = this.flowBuf[f] as Uint8Array;
      if (sameTcpFlow(runBuf, this.flowOff[f], buf, off, layout.l2Length, layout.ipVersion, layout.l4Offset)) return f;
    }
    return -1;
  }

  private openFlow(
    entry: number,
    buf: Uint8Array,
    off: number,
    hash: number,
    context: number,
    payload: number,
    flags: number,
  ): void {
    let f = this.flowEntry.indexOf(-1);
    if (f < 0) {
      f = 0;
      for (let i = 1; i < this.flowTouched.length; i++) if (this.flowTouched[i] < this.flowTouched[f]) f = i;
    }
    this.flowEntry[f] = entry;
    this.flowHash[f] = hash;
    this.flowContext[f] = context;
    this.flowBuf[f] = buf;
    this.flowOff[f] = off;
    this.setNextSeq(f, buf, off + this.entryL4[entry], payload);
    this.flowFlags[f] = flags;
    this.flowTouched[f] = this.stats.pushed;
  }

  /**
   * Flow f's next sequence number: that of the TCP header at `tcp` plus
   * `payload`, mod 2^32. Kept in 16-bit halves, never as one 32-bit number,
   * which V8 would box on the heap above 2^30 (an allocation per frame).
   */
  private setNextSeq(f: number, buf: Uint8Array, tcp: number, payload: number): void {
    const seq = tcp + TCP_SEQ_OFFSET;
    const low = ((buf[seq + 2] << 8) | buf[seq + 3]) + payload;
    this.flowNextSeqHigh[f] = (((buf[seq] << 8) | buf[seq + 1]) + (low >>> 16)) & 0xffff;
    this.flowNextSeqLow[f] = low & 0xffff;
  }

  private closeFlow(f: number): void {
    this.flowEntry[f] = -1;
    this.flowBuf[f] = null;
  }

  /** Appends the frame to flow f's run when every merge rule holds: APPEND_DONE, else (nothing changed) why not. */
  private tryAppend(
    f: number,
    buf: Uint8Array,
    off: number,
    tcpHeaderLength: number,
    payload: number,
    flags: number,
  ): number {
    const e = this.flowEntry[f];
    const l2 = this.entryL2[e];
    const l4 = this.entryL4[e];
    const version = this.entryVersion[e];
    const gsoSize = this.entryGsoSize[e];
    const headers = this.entryHeaders[e];
    if (l4 + tcpHeaderLength !== headers || payload > gsoSize) return APPEND_REFUSED;
    const seq = off + l4 + TCP_SEQ_OFFSET;
    if (((buf[seq] << 8) | buf[seq + 1]) !== this.flowNextSeqHigh[f]) return APPEND_REFUSED;
    if (((buf[seq + 2] << 8) | buf[seq + 3]) !== this.flowNextSeqLow[f]) return APPEND_REFUSED;
    if ((flags & ~RUN_ENDING) !== this.flowFlags[f]) return APPEND_REFUSED;
    const length = this.entryLength[e];
    if (length - l2 + payload > this.maxIpLength) return APPEND_REFUSED;
    const runBuf = this.flowBuf[f] as Uint8Array;
    const runOff = this.flowOff[f];
    if (!sameSegmentHeaders(runBuf, runOff, buf, off, l2, version, l4, tcpHeaderLength)) return APPEND_REFUSED;
    let slot = this.entrySlot[e];
    if (slot < 0 && this.usedSlots === this.maxSuperFrames) return APPEND_REFUSED;
    if (!tcpFrameChecksumsValid(buf, off, l2, version, l4, tcpHeaderLength + payload)) {
      this.stats.badChecksums++;
      return APPEND_DAMAGED;
    }
    if (slot < 0) {
      if (!tcpFrameChecksumsValid(runBuf, runOff, l2, version, l4, length - l4)) {
        this.stats.badChecksums++;
        return APPEND_REFUSED;
      }
      slot = this.usedSlots++;
      this.entrySlot[e] = slot;
      const frameStart = slot * this.slotBytes + this.headerLength;
      copyBytes(runBuf, runOff, this.storage, frameStart, length);
      this.flowBuf[f] = this.storage;
      this.flowOff[f] = frameStart;
    }
    copyBytes(buf, off + headers, this.storage, this.flowOff[f] + length, payload);
    this.entryLength[e] = length + payload;
    this.entrySegments[e]++;
    this.setNextSeq(f, buf, off + l4, payload);
    this.flowTouched[f] = this.stats.pushed;
    this.stats.merged++;
    const ending = flags & RUN_ENDING;
    if (ending !== 0 || payload < gsoSize || length + payload - l2 + gsoSize > this.maxIpLength) {
      this.entryEndFlags[e] = ending;
      this.closeFlow(f);
    }
    return APPEND_DONE;
  }

  /** Lengths, IPv4 checksum, PSH/FIN, the pseudo-header partial sum and the virtio-net header of entry e. */
  private finishSuperFrame(e: number, base: number): void {
    const s = this.storage;
    const frame = base + this.headerLength;
    const l2 = this.entryL2[e];
    const l4 = this.entryL4[e];
    const length = this.entryLength[e];
    const ip = frame + l2;
    const v4 = this.entryVersion[e] === 4;
    const l4Length = length - l4;
    let pseudo: number;
    if (v4) {
      putU16(s, ip + 2, length - l2);
      putU16(s, ip + IPV4_CHECKSUM_OFFSET, 0);
      putU16(s, ip + IPV4_CHECKSUM_OFFSET, internetChecksum(s, ip, l4 - l2));
      pseudo = ipv4PseudoHeaderSumAt(s, ip, IP_PROTOCOL_TCP, l4Length);
    } else {
      putU16(s, ip + 4, length - l2 - IPV6_HEADER_LENGTH);
      pseudo = ipv6PseudoHeaderSum(s, ip, l4Length, IP_PROTOCOL_TCP);
    }
    s[frame + l4 + TCP_FLAGS_OFFSET] |= this.entryEndFlags[e];
    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not
    // complemented; the kernel (or the guest) adds header and payload.
    putU16(s, frame + l4 + TCP_CHECKSUM_OFFSET, foldChecksum(pseudo));
    const h = this.outHeader;
    h.gsoType = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
    h.hdrLen = this.entryHeaders[e];
    h.gsoSize = this.entryGsoSize[e];
    h.csumStart = l4;
    writeVirtioNetHeader(s, base, h, this.headerLength);
  }
}

function putU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 8) & 0xff;
  buf[off + 1] = value & 0xff;
}
