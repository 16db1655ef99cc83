// UDP header (RFC 768): src port, dst port, length (header + payload), checksum.
// Tunnel packets over IPv4 carry checksum 0 (RFC 7348 §5 and RFC 8086 §3.2
// permit it); the IPv4 checksum helper is here for probes and tests.

import { IP_PROTOCOL_UDP, ipv4TransportChecksum } from './ipv4.js';

export const UDP_HEADER_LENGTH = 8;
export const UDP_LENGTH_OFFSET = 4;
export const UDP_CHECKSUM_OFFSET = 6;
/**
 * RFC 7348 §5 / RFC 8086 §3.2: source ports from the dynamic range
 * 49152..65535 carry flow entropy. dvs's default range. (The Linux vxlan
 * device, without `srcport MIN MAX`, uses net.ipv4.ip_local_port_range,
 * 32768..60999 by default; receivers accept any source port either way.)
 */
export const TUNNEL_SOURCE_PORT_MIN = 49152;
export const TUNNEL_SOURCE_PORT_MAX = 65535;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** The length field: header + payload. */
  length: number;
  checksum: number;
  payloadOffset: number;
  payloadLength: number;
}

/**
 * Decodes the UDP header at `off` (`length` bytes available, e.g. the IPv4
 * payload length). Null when truncated, or the length field is below 8 or
 * beyond what is available. The checksum is returned, not verified.
 */
export function decodeUdp(buf: Uint8Array, off: number, length: number): UdpHeader | null {
  if (!(off >= 0) || length < UDP_HEADER_LENGTH || off + UDP_HEADER_LENGTH > buf.length) return null;
  const udpLength = (buf[off + 4] << 8) | buf[off + 5];
  if (udpLength < UDP_HEADER_LENGTH || udpLength > length || off + udpLength > buf.length) return null;
  return {
    srcPort: (buf[off] << 8) | buf[off + 1],
    dstPort: (buf[off + 2] << 8) | buf[off + 3],
    length: udpLength,
    checksum: (buf[off + 6] << 8) | buf[off + 7],
    payloadOffset: off + UDP_HEADER_LENGTH,
    payloadLength: udpLength - UDP_HEADER_LENGTH,
  };
}

/** Writes an 8-byte UDP header at `off`; the caller guarantees the room. Returns 8. */
export function writeUdpHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
  checksum = 0,
): number {
  const udpLength = UDP_HEADER_LENGTH + payloadLength;
  buf[off] = srcPort >>> 8;
  buf[off + 1] = srcPort & 0xff;
  buf[off + 2] = dstPort >>> 8;
  buf[off + 3] = dstPort & 0xff;
  buf[off + 4] = udpLength >>> 8;
  buf[off + 5] = udpLength & 0xff;
  buf[off + 6] = checksum >>> 8;
  buf[off + 7] = checksum & 0xff;
  return UDP_HEADER_LENGTH;
}

/**
 * Computes and stores the UDP checksum of the datagram at `off` (header with
 * its length field already written) under the IPv4 pseudo-header. A computed
 * 0 is sent as 0xffff (RFC 768). Returns the stored value.
 */
export function fillUdpChecksumIpv4(buf: Uint8Array, off: number, src: number, dst: number): number {
  const udpLength = (buf[off + 4] << 8) | buf[off + 5];
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  let checksum = ipv4TransportChecksum(buf, off, udpLength, src, dst, IP_PROTOCOL_UDP);
  if (checksum === 0) checksum = 0xffff;
  buf[off + 6] = checksum >>> 8;
  buf[off + 7] = checksum & 0xff;
  return checksum;
}

/**
 * True when min..max (inclusive) is a usable tunnel source-port range:
 * integers, 1 <= min <= max <= 65535. One port (min = max) turns entropy off.
 */
export function isValidTunnelSourcePortRange(min: unknown, max: unknown): boolean {
  return (
    typeof min === 'number' &&
    typeof max === 'number' &&
    Number.isInteger(min) &&
    Number.isInteger(max) &&
    min >= 1 &&
    min <= max &&
    max <= 0xffff
  );
}

/**
 * Maps any 32-bit flow hash onto the source-port range min..max (inclusive;
 * default 49152..65535). The caller validated the range
 * (isValidTunnelSourcePortRange). No allocation.
 */
export function tunnelSourcePort(flowHash: number, min = TUNNEL_SOURCE_PORT_MIN, max = TUNNEL_SOURCE_PORT_MAX): number {
  return min + ((flowHash >>> 0) % (max - min + 1));
}
