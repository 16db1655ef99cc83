// Segmentation in userspace (TSO/USO, as the kernel's tcp_gso_segment and
// wireguard-go's gsoSplit do): a super-frame a TAP handed over with a
// virtio-net header (GSO_TCPV4, GSO_TCPV6 or GSO_UDP_L4) becomes frames of at
// most gso_size payload each, every one a frame a host could have sent:
//   - Ethernet header (and 802.1Q tag) copied;
//   - IPv4: total length, identification = first + i (mod 2^16), header
//     checksum; IPv6: payload length;
//   - TCP: sequence number = first + i × gso_size; FIN and PSH only on the
//     last segment, CWR only on the first; everything else (ACK, window,
//     options) copied; UDP: length;
//   - the transport checksum computed in full (pseudo-header + header +
//     payload). Whatever partial sum the TAP left in the field is ignored.
// No allocation: segments go into the caller's SegmentSlots; payloads move by
// memmove within one ArrayBuffer (in place included) or by a native copy
// between two (byte-copy.ts).

import { addChecksumBytes, finishChecksum } from '../frames/checksum.js';
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, IPV4_CHECKSUM_OFFSET, ipv4PseudoHeaderSumAt } from '../frames/ipv4.js';
import { ipv6PseudoHeaderSum } from '../frames/ipv6.js';
import {
  TCP_CHECKSUM_OFFSET,
  TCP_FLAGS_OFFSET,
  TCP_FLAG_CWR,
  TCP_FLAG_FIN,
  TCP_FLAG_PSH,
  TCP_SEQ_OFFSET,
  readTcpHeaderLength,
} from '../frames/tcp.js';
import { UDP_CHECKSUM_OFFSET, UDP_HEADER_LENGTH, UDP_LENGTH_OFFSET } from '../frames/udp.js';
import { copyBytes, sharesArrayBuffer } from './byte-copy.js';
import { FrameLayout, parseFrameLayout } from './frame-layout.js';
import type { SegmentSlots } from './segment-slots.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  type VirtioNetHeaderFields,
} from './virtio-net-header.js';

export type SegmentDropReason =
  /** The header asks for no segmentation (gso_type NONE) or gso_size is 0. */
  | 'not-gso'
  /** Not Ethernet (at most one 802.1Q tag) + a sane IPv4/IPv6 header that fits. */
  | 'unsupported-frame'
  /** The GSO type names another IP version or transport than the frame carries. */
  | 'gso-type-mismatch'
  /** The IP length field does not cover exactly the rest of the frame. */
  | 'ip-length-mismatch'
  | 'ip-fragment'
  /** IPv6 with an extension header before the transport header. */
  | 'ipv6-extension-header'
  /** csum_start is not the transport header's offset. */
  | 'csum-start-mismatch'
  /** TCP data offset below 5 or the TCP/UDP header past the frame. */
  | 'transport-header-invalid'
  | 'no-payload'
  /** The slots refused the segment count (reserve() returned false). */
  | 'too-many-segments'
  /** A slot cannot hold headroom + its segment. */
  | 'slot-too-small'
  /** A slot in the super-frame's own ArrayBuffer would overwrite bytes still to be read. */
  | 'slot-overlaps-frame';

const layout = new FrameLayout();

/**
 * Segments the super-frame src[off, off+length) (the frame after its
 * virtio-net header; `header` is that header, decoded) into `slots`, each
 * segment at slots.start(i) + headroom. Returns the segment count, or a
 * reason with nothing written. Slots in src's own ArrayBuffer are allowed
 * when each lies before the frame, or at or after the bytes still to be read
 * when it is written (segments are written last to first): in particular
 * the in-place layout, PackedSlots aimed at off − headroom. Never throws,
 * never reads src outside [off, off+length).
 */
export function segmentSuperFrame(
  src: Uint8Array,
  off: number,
  length: number,
  header: VirtioNetHeaderFields,
  slots: SegmentSlots,
  headroom = 0,
): number | SegmentDropReason {
  const gsoType = header.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  const gsoSize = header.gsoSize;
  if (gsoType === VIRTIO_NET_HDR_GSO_NONE || !(gsoSize >= 1)) return 'not-gso';
  if (
    gsoType !== VIRTIO_NET_HDR_GSO_TCPV4 &&
    gsoType !== VIRTIO_NET_HDR_GSO_TCPV6 &&
    gsoType !== VIRTIO_NET_HDR_GSO_UDP_L4
  ) {
    return 'gso-type-mismatch';
  }
  const avail = Math.min(length, src.length - off);
  if (!(off >= 0) || !parseFrameLayout(src, off, avail, layout)) return 'unsupported-frame';
  const tcp = gsoType !== VIRTIO_NET_HDR_GSO_UDP_L4;
  const version = layout.ipVersion;
  if (
    (gsoType === VIRTIO_NET_HDR_GSO_TCPV4 && version !== 4) ||
    (gsoType === VIRTIO_NET_HDR_GSO_TCPV6 && version !== 6)
  ) {
    return 'gso-type-mismatch';
  }
  if (layout.fragment) return 'ip-fragment';
  const protocol = tcp ? IP_PROTOCOL_TCP : IP_PROTOCOL_UDP;
  if (layout.protocol !== protocol) {
    const otherTransport = layout.protocol === IP_PROTOCOL_TCP || layout.protocol === IP_PROTOCOL_UDP;
    return version === 6 && !otherTransport ? 'ipv6-extension-header' : 'gso-type-mismatch';
  }
  const l2 = layout.l2Length;
  const frameLength = l2 + layout.ipLength;
  if (frameLength !== avail) return 'ip-length-mismatch';
  const l4 = layout.l4Offset;
  if (header.csumStart !== l4) return 'csum-start-mismatch';
  const l4HeaderLength = tcp
    ? readTcpHeaderLength(src, off + l4, layout.l4Length)
    : layout.l4Length >= UDP_HEADER_LENGTH
      ? UDP_HEADER_LENGTH
      : -1;
  if (l4HeaderLength < 0) return 'transport-header-invalid';
  const headersLength = l4 + l4HeaderLength;
  const payload = frameLength - headersLength;
  if (payload <= 0) return 'no-payload';
  const count = Math.ceil(payload / gsoSize);
  const lastPayload = payload - (count - 1) * gsoSize;
  if (!slots.reserve(count, headroom, headersLength + Math.min(gsoSize, payload))) return 'too-many-segments';
  const reason = checkSlots(src, off, slots, count, headroom, headersLength, gsoSize, lastPayload);
  if (reason !== null) return reason;

  const ipHeaderLength = layout.ipHeaderLength;
  // The field's place is the transport's, not whatever csum_offset says.
  const checksumOffset = l4 + (tcp ? TCP_CHECKSUM_OFFSET : UDP_CHECKSUM_OFFSET);
  // The sequence number in 16-bit halves: a 32-bit number above 2^30 would be
  // boxed on the heap by V8 as it crosses calls (an allocation per segment).
  const seqHigh = tcp ? (src[off + l4 + TCP_SEQ_OFFSET] << 8) | src[off + l4 + TCP_SEQ_OFFSET + 1] : 0;
  const seqLow = tcp ? (src[off + l4 + TCP_SEQ_OFFSET + 2] << 8) | src[off + l4 + TCP_SEQ_OFFSET + 3] : 0;
  const firstId = version === 4 ? (src[off + l2 + 4] << 8) | src[off + l2 + 5] : 0;
  for (let i = count - 1; i >= 0; i--) {
    const dst = slots.buffer(i);
    const d = slots.start(i) + headroom;
    const chunk = i === count - 1 ? lastPayload : gsoSize;
    const segmentLength = headersLength + chunk;
    // Payload first, then headers: in place, the slot's header area may lie
    // over this segment's own payload, never over anything still unread.
    copyBytes(src, off + headersLength + i * gsoSize, dst, d + headersLength, chunk);
    copyBytes(src, off, dst, d, headersLength);
    const ip = d + l2;
    if (version === 4) {
      putU16(dst, ip + 2, segmentLength - l2);
      putU16(dst, ip + 4, (firstId + i) & 0xffff);
      putU16(dst, ip + IPV4_CHECKSUM_OFFSET, 0);
      putU16(dst, ip + IPV4_CHECKSUM_OFFSET, finishChecksum(addChecksumBytes(0, dst, ip, ipHeaderLength)));
    } else {
      putU16(dst, ip + 4, segmentLength - l2 - ipHeaderLength);
    }
    const t = d + l4;
    const l4Length = segmentLength - l4;
    if (tcp) {
      const low = seqLow + i * gsoSize; // < 2^17: i × gso_size < 65536
      putU16(dst, t + TCP_SEQ_OFFSET, (seqHigh + (low >>> 16)) & 0xffff);
      putU16(dst, t + TCP_SEQ_OFFSET + 2, low & 0xffff);
      let flags = dst[t + TCP_FLAGS_OFFSET];
      if (i < count - 1) flags &= ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
      if (i > 0) flags &= ~TCP_FLAG_CWR;
      dst[t + TCP_FLAGS_OFFSET] = flags;
    } else {
      putU16(dst, t + UDP_LENGTH_OFFSET, l4Length);
    }
    putU16(dst, d + checksumOffset, 0);
    const pseudo =
      version === 4
        ? ipv4PseudoHeaderSumAt(dst, ip, protocol, l4Length)
        : ipv6PseudoHeaderSum(dst, ip, l4Length, protocol);
    let checksum = finishChecksum(addChecksumBytes(pseudo, dst, t, l4Length));
    if (!tcp && checksum === 0) checksum = 0xffff;
    putU16(dst, d + checksumOffset, checksum);
    slots.commit(i, segmentLength);
  }
  return count;
}

/** Capacity of every slot, and the in-place rule for slots in src's own ArrayBuffer (see segmentSuperFrame). */
function checkSlots(
  src: Uint8Array,
  off: number,
  slots: SegmentSlots,
  count: number,
  headroom: number,
  headersLength: number,
  gsoSize: number,
  lastPayload: number,
): SegmentDropReason | null {
  const frameStart = ArrayBuffer.isView(src) ? src.byteOffset + off : 0;
  for (let i = 0; i < count; i++) {
    const segmentLength = headersLength + (i === count - 1 ? lastPayload : gsoSize);
    const start = slots.start(i);
    const dst = slots.buffer(i);
    if (
      !(start >= 0) ||
      slots.capacity(i) < headroom + segmentLength ||
      start + headroom + segmentLength > dst.length
    ) {
      return 'slot-too-small';
    }
    if (sharesArrayBuffer(src, dst)) {
      const write = dst.byteOffset + start + headroom;
      const unread = i === 0 ? frameStart : frameStart + headersLength + i * gsoSize;
      if (write + segmentLength > frameStart && write < unread) return 'slot-overlaps-frame';
    }
  }
  return null;
}

/**
 * Finishes a frame's partial checksum (NEEDS_CSUM without GSO) in place, as
 * the kernel's skb_checksum_help does: the ones' complement sum from
 * csum_start to the end of the frame, with the field (which holds the
 * pseudo-header sum) included as it is, stored complemented at csum_start +
 * csum_offset; a result of 0 is stored as 0xffff. `buf[off, off+length)` is
 * the frame after its virtio-net header. Returns the value stored, or -1
 * (nothing written) when the header has no NEEDS_CSUM or the field lies
 * outside the frame.
 */
export function completePartialChecksum(
  buf: Uint8Array,
  off: number,
  length: number,
  header: Pick<VirtioNetHeaderFields, 'flags' | 'csumStart' | 'csumOffset'>,
): number {
  const avail = Math.min(length, buf.length - off);
  const start = header.csumStart;
  if ((header.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0 || !(off >= 0) || !(start >= 0)) return -1;
  if (!(header.csumOffset >= 0) || !(start + header.csumOffset + 2 <= avail)) return -1;
  let checksum = finishChecksum(addChecksumBytes(0, buf, off + start, avail - start));
  if (checksum === 0) checksum = 0xffff;
  putU16(buf, off + start + header.csumOffset, checksum);
  return checksum;
}

function putU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 8) & 0xff;
  buf[off + 1] = value & 0xff;
}
