// DHCP (RFC 2131) replies, as much as dvs snoops: a DHCPACK tells which IPv4
// address a server gave to which client MAC. BOOTP message (after UDP):
//
//   op(1)=2 htype(1)=1 hlen(1)=6 hops(1) xid(4) secs(2) flags(2)
//   ciaddr(4) yiaddr(4) siaddr(4) giaddr(4) chaddr(16) sname(64) file(128)
//   magic cookie 63 82 53 63, options: code(1) length(1) value; 0 pad, 255 end
//
// The check allocates nothing (the data path snoops with it); the builder is
// for tools and tests.

import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from './ethernet.js';
import { writeEthernetHeader } from './ethernet-frame.js';
import { IPV4_HEADER_MIN_LENGTH, IP_PROTOCOL_UDP, writeIpv4Header } from './ipv4.js';
import { writeMac } from './mac.js';
import { UDP_HEADER_LENGTH } from './udp.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTP_OP_REPLY = 2;
/** Offsets inside the BOOTP message. */
export const DHCP_YIADDR_OFFSET = 16;
export const DHCP_CHADDR_OFFSET = 28;
export const DHCP_MAGIC_COOKIE_OFFSET = 236;
export const DHCP_OPTIONS_OFFSET = 240;
export const DHCP_OPTION_MESSAGE_TYPE = 53;
export const DHCP_MESSAGE_ACK = 5;
const MAGIC_COOKIE = [0x63, 0x82, 0x53, 0x63];

/**
 * The offset of the BOOTP message when the IPv4 packet at `ipOff` (`length`
 * bytes available) is an unfragmented UDP datagram from port 67 to port 68
 * carrying a DHCPACK for an Ethernet client (op 2, htype 1, hlen 6, magic
 * cookie, option 53 = 5 before the end option); -1 for anything else or
 * anything truncated. The client MAC is at +DHCP_CHADDR_OFFSET, its address
 * at +DHCP_YIADDR_OFFSET. Allocates nothing.
 */
export function dhcpAckAt(buf: Uint8Array, ipOff: number, length: number): number {
  if (!(ipOff >= 0) || length < IPV4_HEADER_MIN_LENGTH || ipOff + length > buf.length) return -1;
  if (buf[ipOff] >>> 4 !== 4 || buf[ipOff + 9] !== IP_PROTOCOL_UDP) return -1;
  if (((buf[ipOff + 6] & 0x3f) | buf[ipOff + 7]) !== 0) return -1; // a fragment (MF or offset)
  const ihl = (buf[ipOff] & 0x0f) * 4;
  const udp = ipOff + ihl;
  const m = udp + UDP_HEADER_LENGTH;
  const end = ipOff + length;
  if (ihl < IPV4_HEADER_MIN_LENGTH || m + DHCP_OPTIONS_OFFSET > end) return -1;
  if (((buf[udp] << 8) | buf[udp + 1]) !== DHCP_SERVER_PORT) return -1;
  if (((buf[udp + 2] << 8) | buf[udp + 3]) !== DHCP_CLIENT_PORT) return -1;
  if (buf[m] !== BOOTP_OP_REPLY || buf[m + 1] !== 1 || buf[m + 2] !== 6) return -1;
  for (let k = 0; k < 4; k++) if (buf[m + DHCP_MAGIC_COOKIE_OFFSET + k] !== MAGIC_COOKIE[k]) return -1;
  for (let o = m + DHCP_OPTIONS_OFFSET; o < end;) {
    const code = buf[o];
    if (code === 255) return -1;
    if (code === 0) {
      o++;
      continue;
    }
    if (o + 2 > end || o + 2 + buf[o + 1] > end) return -1;
    if (code === DHCP_OPTION_MESSAGE_TYPE && buf[o + 1] === 1) return buf[o + 2] === DHCP_MESSAGE_ACK ? m : -1;
    o += 2 + buf[o + 1];
  }
  return -1;
}

export interface DhcpAckFields {
  serverMac: number;
  serverIp: number;
  clientMac: number;
  /** The address given (yiaddr). */
  clientIp: number;
}

/** A whole Ethernet/IPv4/UDP DHCPACK frame, unicast to the client (tools and tests; allocates). */
export function buildDhcpAck(f: DhcpAckFields): Buffer {
  const messageLength = DHCP_OPTIONS_OFFSET + 4;
  const udpLength = UDP_HEADER_LENGTH + messageLength;
  const buf = Buffer.alloc(ETHERNET_HEADER_LENGTH + IPV4_HEADER_MIN_LENGTH + udpLength);
  writeEthernetHeader(buf, 0, f.clientMac, f.serverMac, ETHERTYPE_IPV4);
  const ip = ETHERNET_HEADER_LENGTH;
  writeIpv4Header(buf, ip, {
    src: f.serverIp,
    dst: f.clientIp,
    protocol: IP_PROTOCOL_UDP,
    payloadLength: udpLength,
  });
  const udp = ip + IPV4_HEADER_MIN_LENGTH;
  buf.writeUInt16BE(DHCP_SERVER_PORT, udp);
  buf.writeUInt16BE(DHCP_CLIENT_PORT, udp + 2);
  buf.writeUInt16BE(udpLength, udp + 4);
  const m = udp + UDP_HEADER_LENGTH;
  buf[m] = BOOTP_OP_REPLY;
  buf[m + 1] = 1;
  buf[m + 2] = 6;
  buf.writeUInt32BE(f.clientIp >>> 0, m + DHCP_YIADDR_OFFSET);
  writeMac(buf, m + DHCP_CHADDR_OFFSET, f.clientMac);
  buf.set(MAGIC_COOKIE, m + DHCP_MAGIC_COOKIE_OFFSET);
  buf.set([DHCP_OPTION_MESSAGE_TYPE, 1, DHCP_MESSAGE_ACK, 255], m + DHCP_OPTIONS_OFFSET);
  return buf;
}
