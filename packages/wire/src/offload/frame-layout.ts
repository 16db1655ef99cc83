// Where the headers of an inner frame are: Ethernet (untagged or one 802.1Q
// tag), then IPv4 or IPv6, then the transport header. Segmentation,
// coalescing and the flow hash all start here. Offsets count from the first
// byte of the frame, as a virtio-net header's csum_start and hdr_len do.

import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../frames/ethernet.js';
import { IPV4_HEADER_MIN_LENGTH, IPV4_VERSION } from '../frames/ipv4.js';
import { IPV6_HEADER_LENGTH, IPV6_VERSION } from '../frames/ipv6.js';
import { VLAN_HEADER_LENGTH, VLAN_UNTAGGED, readVlanId } from '../frames/vlan.js';

const IPV4_FLAGS_OFFSET = 6;
const IPV4_MORE_FRAGMENTS = 0x20;
const IPV4_FRAGMENT_OFFSET_HIGH = 0x1f;

/** Reusable: parseFrameLayout fills one the caller keeps (no allocation per frame). */
export class FrameLayout {
  /** Ethernet header bytes: 14, or 18 with one 802.1Q tag. */
  l2Length = 0;
  /** The EtherType after the tag, if any. */
  ethertype = 0;
  /** 4 or 6; 0 when the frame carries neither (then nothing below is set). */
  ipVersion = 0;
  /** IP header bytes: IPv4 IHL × 4 (20..60), IPv6 40 (extension headers are not walked). */
  ipHeaderLength = 0;
  /** The IP packet's length by its own header: IPv4 total length, IPv6 40 + payload length. */
  ipLength = 0;
  /** IPv4 protocol, or the IPv6 header's next header. */
  protocol = 0;
  /** IPv4 MF set or a fragment offset: no transport header can be trusted to follow. */
  fragment = false;

  /** Offset of the transport header from the frame's start. */
  get l4Offset(): number {
    return this.l2Length + this.ipHeaderLength;
  }

  /** Transport bytes by the IP header (header + payload). */
  get l4Length(): number {
    return this.ipLength - this.ipHeaderLength;
  }
}

/**
 * Parses the frame buf[off, off+length). Returns true and fills `into` when
 * it is Ethernet (at most one 802.1Q tag) carrying an IPv4 or IPv6 header
 * whose version and length fields are sane and whose packet fits in the
 * frame (Ethernet padding after it is allowed). Returns false otherwise;
 * into.l2Length and into.ethertype are still set when the Ethernet header
 * was readable (both 0 when not). The IPv4 header checksum is not
 * checked here. Never throws, never reads out of bounds.
 */
export function parseFrameLayout(buf: Uint8Array, off: number, length: number, into: FrameLayout): boolean {
  into.l2Length = 0;
  into.ethertype = 0;
  into.ipVersion = 0;
  const avail = Math.min(length, buf.length - off);
  const vid = readVlanId(buf, off, avail);
  if (vid < VLAN_UNTAGGED) return false;
  const l2 = vid === VLAN_UNTAGGED ? ETHERNET_HEADER_LENGTH : VLAN_HEADER_LENGTH;
  const ethertype = (buf[off + l2 - 2] << 8) | buf[off + l2 - 1];
  into.l2Length = l2;
  into.ethertype = ethertype;
  const ip = off + l2;
  const ipAvail = avail - l2;
  if (ethertype === ETHERTYPE_IPV4) {
    if (ipAvail < IPV4_HEADER_MIN_LENGTH || buf[ip] >>> 4 !== IPV4_VERSION) return false;
    const headerLength = (buf[ip] & 0x0f) * 4;
    const totalLength = (buf[ip + 2] << 8) | buf[ip + 3];
    if (headerLength < IPV4_HEADER_MIN_LENGTH || totalLength < headerLength || totalLength > ipAvail) return false;
    into.ipHeaderLength = headerLength;
    into.ipLength = totalLength;
    into.protocol = buf[ip + 9];
    const flags = buf[ip + IPV4_FLAGS_OFFSET];
    into.fragment = (flags & (IPV4_MORE_FRAGMENTS | IPV4_FRAGMENT_OFFSET_HIGH)) !== 0 || buf[ip + 7] !== 0;
    into.ipVersion = 4;
    return true;
  }
  if (ethertype === ETHERTYPE_IPV6) {
    if (ipAvail < IPV6_HEADER_LENGTH || buf[ip] >>> 4 !== IPV6_VERSION) return false;
    const totalLength = IPV6_HEADER_LENGTH + ((buf[ip + 4] << 8) | buf[ip + 5]);
    if (totalLength > ipAvail) return false;
    into.ipHeaderLength = IPV6_HEADER_LENGTH;
    into.ipLength = totalLength;
    into.protocol = buf[ip + 6];
    into.fragment = false;
    into.ipVersion = 6;
    return true;
  }
  return false;
}
