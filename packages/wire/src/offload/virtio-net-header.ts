// struct virtio_net_hdr (virtio 1.x §5.1.6; Linux include/uapi/linux/virtio_net.h):
// the header a TAP opened with IFF_VNET_HDR, or an AF_PACKET socket with
// PACKET_VNET_HDR, puts in front of every frame. It says how the kernel left
// the frame's checksum and whether the frame is a super-frame to be segmented.
//
//   0        1          2        4          6            8             10       12
//   | flags  | gso_type | hdr_len | gso_size | csum_start | csum_offset | num_buffers |
//                                                                       (only in the
//                                                                        12-byte form)
//
// Multi-byte fields are little-endian: virtio 1.x, and what a TAP uses on
// every little-endian host (on a big-endian host the TAP needs TUNSETVNETLE).
// csum_start and hdr_len count from the first byte of the Ethernet frame.
//
// A TAP reading a super-frame sets hdr_len to the bytes the kernel happened to
// hold linear, which can be more than the headers (wireguard-go notes the
// same); segmentation therefore parses the headers itself and uses hdr_len
// only as a bound.

import { ETHERNET_HEADER_LENGTH } from '../frames/ethernet.js';
import { TCP_CHECKSUM_OFFSET } from '../frames/tcp.js';
import { UDP_CHECKSUM_OFFSET } from '../frames/udp.js';

/** sizeof(struct virtio_net_hdr): what TAPs and PACKET_VNET_HDR use by default. */
export const VIRTIO_NET_HDR_LENGTH = 10;
/** sizeof(struct virtio_net_hdr_mrg_rxbuf): a TAP after TUNSETVNETHDRSZ 12 (QEMU's vhost layout). */
export const VIRTIO_NET_HDR_MRG_RXBUF_LENGTH = 12;

/** The checksum from csum_start to the end still has to be computed and stored at csum_start + csum_offset. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** The checksum was verified (device to driver only). */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** UFO (IP fragmentation of one UDP datagram): deprecated, refused here. */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** USO: segmentation into UDP datagrams of gso_size payload each. */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** Or-ed into a TCP gso_type: the super-frame carries CWR, which only its first segment keeps. */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

const KNOWN_FLAGS = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;

export interface VirtioNetHeaderFields {
  flags: number;
  /** A GSO type, possibly or-ed with VIRTIO_NET_HDR_GSO_ECN. */
  gsoType: number;
  hdrLen: number;
  /** Payload bytes per segment (the MSS for TCP). */
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  /** The 12-byte form's num_buffers; a TAP ignores it on write and leaves it unwritten on read. */
  numBuffers?: number;
}

/** A validated header. Reusable: decodeVirtioNetHeader fills one the caller keeps (no allocation per frame). */
export class VirtioNetHeader implements VirtioNetHeaderFields {
  readonly ok = true;
  flags = 0;
  gsoType = VIRTIO_NET_HDR_GSO_NONE;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;
  numBuffers = 0;
  /** 10 or 12: where the frame starts after the header. */
  headerLength = VIRTIO_NET_HDR_LENGTH;
  /** Bytes of the frame that follows the header. */
  frameLength = 0;
}

export type VirtioNetHeaderDropReason =
  /** Fewer bytes than the header and a 14-byte Ethernet header. */
  | 'truncated'
  /** A flag other than NEEDS_CSUM or DATA_VALID. */
  | 'unknown-flags'
  /** Not NONE, TCPV4, TCPV6 or UDP_L4 (UFO included), or ECN on a non-TCP type. */
  | 'unknown-gso-type'
  /** A GSO type without NEEDS_CSUM: nothing says where the transport header is. */
  | 'gso-without-csum'
  | 'gso-size-zero'
  /** hdr_len larger than the frame. */
  | 'hdr-len-beyond-frame'
  /** NEEDS_CSUM with csum_start inside the Ethernet header, or the checksum field past the frame's end. */
  | 'csum-out-of-range'
  /** GSO TCP with csum_offset != 16, or GSO UDP_L4 with csum_offset != 6. */
  | 'csum-offset-mismatch';

export interface VirtioNetHeaderDecodeError {
  ok: false;
  reason: VirtioNetHeaderDropReason;
}

const ERRORS: Record<VirtioNetHeaderDropReason, VirtioNetHeaderDecodeError> = {
  truncated: Object.freeze({ ok: false, reason: 'truncated' }),
  'unknown-flags': Object.freeze({ ok: false, reason: 'unknown-flags' }),
  'unknown-gso-type': Object.freeze({ ok: false, reason: 'unknown-gso-type' }),
  'gso-without-csum': Object.freeze({ ok: false, reason: 'gso-without-csum' }),
  'gso-size-zero': Object.freeze({ ok: false, reason: 'gso-size-zero' }),
  'hdr-len-beyond-frame': Object.freeze({ ok: false, reason: 'hdr-len-beyond-frame' }),
  'csum-out-of-range': Object.freeze({ ok: false, reason: 'csum-out-of-range' }),
  'csum-offset-mismatch': Object.freeze({ ok: false, reason: 'csum-offset-mismatch' }),
};

function u16le(buf: Uint8Array, off: number): number {
  return buf[off] | (buf[off + 1] << 8);
}

/**
 * Decodes and validates the header at `off` of buf[off, off+length), which
 * holds the header (`headerLength` 10 or 12 bytes) followed by its frame,
 * as one TAP read returns them. Checks what the kernel's tun_get_user and
 * virtio_net_hdr_to_skb check, so that what passes here a TAP would accept.
 * Fills and returns `into` (reuse one per port: no allocation), or returns a
 * shared frozen error naming the reason. Never throws, never reads past
 * min(off + length, buf.length).
 */
export function decodeVirtioNetHeader(
  buf: Uint8Array,
  off: number,
  length: number,
  headerLength: number = VIRTIO_NET_HDR_LENGTH,
  into: VirtioNetHeader = new VirtioNetHeader(),
): VirtioNetHeader | VirtioNetHeaderDecodeError {
  if (headerLength !== VIRTIO_NET_HDR_LENGTH && headerLength !== VIRTIO_NET_HDR_MRG_RXBUF_LENGTH) {
    return ERRORS.truncated;
  }
  const avail = Math.min(length, buf.length - off);
  if (!(off >= 0) || !(avail >= headerLength + ETHERNET_HEADER_LENGTH)) return ERRORS.truncated;
  const frameLength = avail - headerLength;
  const flags = buf[off];
  const gsoType = buf[off + 1];
  const hdrLen = u16le(buf, off + 2);
  const gsoSize = u16le(buf, off + 4);
  const csumStart = u16le(buf, off + 6);
  const csumOffset = u16le(buf, off + 8);
  if ((flags & ~KNOWN_FLAGS) !== 0) return ERRORS['unknown-flags'];
  const base = gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  const tcp = base === VIRTIO_NET_HDR_GSO_TCPV4 || base === VIRTIO_NET_HDR_GSO_TCPV6;
  if (!tcp && base !== VIRTIO_NET_HDR_GSO_NONE && base !== VIRTIO_NET_HDR_GSO_UDP_L4) return ERRORS['unknown-gso-type'];
  if (!tcp && (gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0) return ERRORS['unknown-gso-type'];
  const needsCsum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
  if (base !== VIRTIO_NET_HDR_GSO_NONE) {
    if (gsoSize === 0) return ERRORS['gso-size-zero'];
    if (!needsCsum) return ERRORS['gso-without-csum'];
    if (csumOffset !== (tcp ? TCP_CHECKSUM_OFFSET : UDP_CHECKSUM_OFFSET)) return ERRORS['csum-offset-mismatch'];
  }
  if (hdrLen > frameLength) return ERRORS['hdr-len-beyond-frame'];
  if (needsCsum && (csumStart < ETHERNET_HEADER_LENGTH || csumStart + csumOffset + 2 > frameLength)) {
    return ERRORS['csum-out-of-range'];
  }
  into.flags = flags;
  into.gsoType = gsoType;
  into.hdrLen = hdrLen;
  into.gsoSize = gsoSize;
  into.csumStart = csumStart;
  into.csumOffset = csumOffset;
  into.numBuffers = headerLength === VIRTIO_NET_HDR_MRG_RXBUF_LENGTH ? u16le(buf, off + 10) : 0;
  into.headerLength = headerLength;
  into.frameLength = frameLength;
  return into;
}

/**
 * Writes a header (10 or 12 bytes) at `off`. Returns headerLength, or -1
 * (nothing written) when it does not fit. Fields are written as given, masked
 * to their width: validity is the caller's (the coalescer's) business.
 */
export function writeVirtioNetHeader(
  buf: Uint8Array,
  off: number,
  h: VirtioNetHeaderFields,
  headerLength: number = VIRTIO_NET_HDR_LENGTH,
): number {
  if (headerLength !== VIRTIO_NET_HDR_LENGTH && headerLength !== VIRTIO_NET_HDR_MRG_RXBUF_LENGTH) return -1;
  if (!(off >= 0) || off + headerLength > buf.length) return -1;
  buf[off] = h.flags;
  buf[off + 1] = h.gsoType;
  putU16le(buf, off + 2, h.hdrLen);
  putU16le(buf, off + 4, h.gsoSize);
  putU16le(buf, off + 6, h.csumStart);
  putU16le(buf, off + 8, h.csumOffset);
  if (headerLength === VIRTIO_NET_HDR_MRG_RXBUF_LENGTH) putU16le(buf, off + 10, h.numBuffers ?? 0);
  return headerLength;
}

/** Writes an all-zero header (GSO_NONE, no flags: "this frame as it is") at `off`. Returns headerLength or -1. */
export function clearVirtioNetHeader(
  buf: Uint8Array,
  off: number,
  headerLength: number = VIRTIO_NET_HDR_LENGTH,
): number {
  if (headerLength !== VIRTIO_NET_HDR_LENGTH && headerLength !== VIRTIO_NET_HDR_MRG_RXBUF_LENGTH) return -1;
  if (!(off >= 0) || off + headerLength > buf.length) return -1;
  for (let i = 0; i < headerLength; i++) buf[off + i] = 0;
  return headerLength;
}

/** True when the header's gso_type asks for segmentation. */
export function isGsoHeader(h: VirtioNetHeaderFields): boolean {
  return (h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN) !== VIRTIO_NET_HDR_GSO_NONE;
}

function putU16le(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value & 0xff;
  buf[off + 1] = (value >>> 8) & 0xff;
}
