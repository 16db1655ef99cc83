// Outer (underlay) headers for tests and tools: Ethernet + IPv4 + UDP in
// front of a VXLAN or GRE-in-UDP header, so captures look exactly like what
// crosses a wire. The agent never builds these — its UDP socket does — but the
// pcap proof, the lab and the tunnel probes' tests do.
//
//   | Ethernet 14 | IPv4 20 | UDP 8 | VXLAN 8 or GRE 8 | inner frame ... |

import type { Encap } from './encap.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from './ethernet.js';
import { type EthernetFrame, decodeEthernet, writeEthernetHeader } from './ethernet-frame.js';
import { writeGreUdpHeader, GRE_UDP_HEADER_LENGTH, GRE_UDP_PORT, readGreUdpVni } from './gre-udp.js';
import { IPV4_HEADER_MIN_LENGTH, IP_PROTOCOL_UDP, type Ipv4Header, decodeIpv4, writeIpv4Header } from './ipv4.js';
import { UDP_HEADER_LENGTH, type UdpHeader, decodeUdp, fillUdpChecksumIpv4, writeUdpHeader } from './udp.js';
import { VXLAN_HEADER_LENGTH, VXLAN_UDP_PORT, readVxlanVni, writeVxlanHeader } from './vxlan.js';

/** Ethernet + IPv4 (no options) + UDP. */
export const OUTER_IPV4_HEADERS_LENGTH = ETHERNET_HEADER_LENGTH + IPV4_HEADER_MIN_LENGTH + UDP_HEADER_LENGTH;
/**
 * Underlay IP MTU minus overlay IP MTU for both encaps over IPv4:
 * IPv4 20 + UDP 8 + tunnel header 8 + inner Ethernet 14 = 50.
 */
export const TUNNEL_IPV4_MTU_OVERHEAD = IPV4_HEADER_MIN_LENGTH + UDP_HEADER_LENGTH + 8 + ETHERNET_HEADER_LENGTH;

export interface OuterIpv4Fields {
  srcMac: number;
  dstMac: number;
  /** Unsigned 32-bit addresses. */
  srcIp: number;
  dstIp: number;
  srcPort: number;
  /** Default: the encap's port (4789 / 4754). */
  dstPort?: number;
  ttl?: number;
  identification?: number;
  dontFragment?: boolean;
  /** Compute the UDP checksum; default false (checksum 0, as RFC 7348 and RFC 8086 allow over IPv4). */
  udpChecksum?: boolean;
}

/**
 * Writes Ethernet + IPv4 + UDP headers at `off` for a UDP payload of
 * `payloadLength` bytes that already sits (or will sit, when udpChecksum is
 * false) at off + 42. Returns 42, or -1 when the headers or payload do not fit.
 */
export function writeOuterIpv4Headers(
  buf: Uint8Array,
  off: number,
  f: OuterIpv4Fields,
  dstPort: number,
  payloadLength: number,
): number {
  if (!(off >= 0) || off + OUTER_IPV4_HEADERS_LENGTH + payloadLength > buf.length) return -1;
  const ipOff = off + ETHERNET_HEADER_LENGTH;
  const udpOff = ipOff + IPV4_HEADER_MIN_LENGTH;
  const ip = writeIpv4Header(buf, ipOff, {
    src: f.srcIp,
    dst: f.dstIp,
    protocol: IP_PROTOCOL_UDP,
    payloadLength: UDP_HEADER_LENGTH + payloadLength,
    ttl: f.ttl,
    identification: f.identification,
    dontFragment: f.dontFragment,
  });
  if (ip < 0) return -1;
  writeEthernetHeader(buf, off, f.dstMac, f.srcMac, ETHERTYPE_IPV4);
  writeUdpHeader(buf, udpOff, f.srcPort, f.dstPort ?? dstPort, payloadLength);
  if (f.udpChecksum) fillUdpChecksumIpv4(buf, udpOff, f.srcIp, f.dstIp);
  return OUTER_IPV4_HEADERS_LENGTH;
}

/** A whole underlay frame: outer headers, the encap's header for `vni`, then `frame`. Allocates. */
export function buildTunnelPacket(encap: Encap, outer: OuterIpv4Fields, vni: number, frame: Uint8Array): Buffer {
  const tunnelHeaderLength = encap === 'vxlan' ? VXLAN_HEADER_LENGTH : GRE_UDP_HEADER_LENGTH;
  const payloadLength = tunnelHeaderLength + frame.length;
  const buf = Buffer.alloc(OUTER_IPV4_HEADERS_LENGTH + payloadLength);
  const tunnelOff = OUTER_IPV4_HEADERS_LENGTH;
  if (encap === 'vxlan') writeVxlanHeader(buf, tunnelOff, vni);
  else writeGreUdpHeader(buf, tunnelOff, vni);
  buf.set(frame, tunnelOff + tunnelHeaderLength);
  writeOuterIpv4Headers(buf, 0, outer, encap === 'vxlan' ? VXLAN_UDP_PORT : GRE_UDP_PORT, payloadLength);
  return buf;
}

export function buildVxlanPacket(outer: OuterIpv4Fields, vni: number, frame: Uint8Array): Buffer {
  return buildTunnelPacket('vxlan', outer, vni, frame);
}

export function buildGreUdpPacket(outer: OuterIpv4Fields, vni: number, frame: Uint8Array): Buffer {
  return buildTunnelPacket('gre-udp', outer, vni, frame);
}

export interface TunnelPacket {
  ethernet: EthernetFrame;
  ipv4: Ipv4Header;
  udp: UdpHeader;
  encap: Encap;
  vni: number;
  /** Absolute offset and length of the inner frame. */
  innerOffset: number;
  innerLength: number;
}

/**
 * Decodes a whole underlay frame as written by buildTunnelPacket: untagged
 * Ethernet, IPv4 (checksum valid), UDP to `ports.vxlan` (default 4789) or
 * `ports.greUdp` (default 4754), a valid tunnel header. Null otherwise.
 */
export function decodeTunnelPacket(
  buf: Uint8Array,
  off: number,
  length: number,
  ports: { vxlan?: number; greUdp?: number } = {},
): TunnelPacket | null {
  const ethernet = decodeEthernet(buf, off, length);
  if (!ethernet.ok || ethernet.vlanId !== -1 || ethernet.ethertype !== ETHERTYPE_IPV4) return null;
  const ipv4 = decodeIpv4(buf, ethernet.payloadOffset, ethernet.payloadLength);
  if (ipv4 === null || ipv4.protocol !== IP_PROTOCOL_UDP || ipv4.fragmentOffset !== 0 || ipv4.moreFragments)
    return null;
  const udp = decodeUdp(buf, ipv4.payloadOffset, ipv4.payloadLength);
  if (udp === null) return null;
  let encap: Encap;
  let vni: number;
  if (udp.dstPort === (ports.vxlan ?? VXLAN_UDP_PORT)) {
    encap = 'vxlan';
    vni = readVxlanVni(buf, udp.payloadOffset, udp.payloadLength);
  } else if (udp.dstPort === (ports.greUdp ?? GRE_UDP_PORT)) {
    encap = 'gre-udp';
    vni = readGreUdpVni(buf, udp.payloadOffset, udp.payloadLength);
  } else {
    return null;
  }
  if (vni < 0) return null;
  const innerOffset = udp.payloadOffset + 8;
  return { ethernet, ipv4, udp, encap, vni, innerOffset, innerLength: udp.payloadLength - 8 };
}
