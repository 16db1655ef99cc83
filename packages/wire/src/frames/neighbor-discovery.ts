// ICMPv6 neighbour solicitation / advertisement (RFC 4861 §4.3, §4.4): what
// dvs snoops to learn IPv6 addresses and sends as probes.
//
//   NS: type 135 | code 0 | checksum | reserved(4)        | target(16) | options
//   NA: type 136 | code 0 | checksum | R S O + reserved(4) | target(16) | options
//   option: type(1) length(1, in 8-byte units) value — 1 source / 2 target link-layer address
//
// The decoder takes the IPv6 header too: validity (RFC 4861 §7.1) depends on
// the hop limit, the checksum over the pseudo-header and the addresses.

import { addChecksumBytes, finishChecksum } from './checksum.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV6 } from './ethernet.js';
import { writeEthernetHeader } from './ethernet-frame.js';
import { IP_PROTOCOL_ICMPV6 } from './ipv4.js';
import { IPV6_ADDRESS_LENGTH, IPV6_HEADER_LENGTH, decodeIpv6, ipv6PseudoHeaderSum, writeIpv6Header } from './ipv6.js';
import { readMac, writeMac } from './mac.js';

export const ICMPV6_TYPE_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT = 136;
/** ND messages must arrive with hop limit 255 (proof they were not routed). */
export const ND_HOP_LIMIT = 255;
/** type, code, checksum, flags/reserved, target. */
export const ND_MESSAGE_LENGTH = 24;
export const ND_OPTION_SOURCE_LINK_LAYER = 1;
export const ND_OPTION_TARGET_LINK_LAYER = 2;
/** A link-layer address option for Ethernet: 2 + 6 bytes. */
export const ND_LINK_LAYER_OPTION_LENGTH = 8;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
const TARGET_OFFSET = 8;

export interface NeighborMessage {
  type: typeof ICMPV6_TYPE_NEIGHBOR_SOLICITATION | typeof ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT;
  /** Absolute offsets of the IPv6 source/destination and the target address (16 bytes each). */
  srcOffset: number;
  dstOffset: number;
  targetOffset: number;
  /** NA flags; false in an NS. */
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** The source (NS) or target (NA) link-layer address option as a MAC number, or -1 when absent. */
  linkLayerMac: number;
}

function isUnspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/** ICMPv6 checksum of the message at ipOff+40 (checksum field included as it is). 0 when valid. */
export function icmpv6Checksum(buf: Uint8Array, ipOff: number, length: number): number {
  const sum = ipv6PseudoHeaderSum(buf, ipOff, length, IP_PROTOCOL_ICMPV6);
  return finishChecksum(addChecksumBytes(sum, buf, ipOff + IPV6_HEADER_LENGTH, length));
}

/**
 * Decodes an NS or NA carried directly in the IPv6 packet at `off` (`length`
 * bytes available; no extension headers). Null for anything else or when a
 * RFC 4861 §7.1 validity check fails: hop limit 255, code 0, length >= 24,
 * checksum, target not multicast, options well formed (non-zero length,
 * inside the message), an NS from :: has no source link-layer option, an NA
 * to a multicast destination is not solicited.
 */
export function decodeNeighborMessage(buf: Uint8Array, off: number, length: number): NeighborMessage | null {
  const ip = decodeIpv6(buf, off, length);
  if (ip === null || ip.nextHeader !== IP_PROTOCOL_ICMPV6 || ip.hopLimit !== ND_HOP_LIMIT) return null;
  const m = ip.payloadOffset;
  const messageLength = ip.payloadLength;
  if (messageLength < ND_MESSAGE_LENGTH) return null;
  const type = buf[m];
  if (type !== ICMPV6_TYPE_NEIGHBOR_SOLICITATION && type !== ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT) return null;
  if (buf[m + 1] !== 0) return null;
  if (icmpv6Checksum(buf, off, messageLength) !== 0) return null;
  const targetOffset = m + TARGET_OFFSET;
  if (buf[targetOffset] === 0xff) return null;
  const wanted = type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION ? ND_OPTION_SOURCE_LINK_LAYER : ND_OPTION_TARGET_LINK_LAYER;
  let linkLayerMac = -1;
  const end = m + messageLength;
  for (let o = m + ND_MESSAGE_LENGTH; o < end;) {
    if (o + 2 > end) return null;
    const optionLength = buf[o + 1] * 8;
    if (optionLength === 0 || o + optionLength > end) return null;
    if (buf[o] === wanted && optionLength >= ND_LINK_LAYER_OPTION_LENGTH && linkLayerMac < 0) {
      linkLayerMac = readMac(buf, o + 2);
    }
    o += optionLength;
  }
  const flags = type === ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT ? buf[m + 4] : 0;
  const solicited = (flags & FLAG_SOLICITED) !== 0;
  if (type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION && isUnspecified(buf, ip.srcOffset) && linkLayerMac >= 0) return null;
  if (type === ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT && buf[ip.dstOffset] === 0xff && solicited) return null;
  return {
    type,
    srcOffset: ip.srcOffset,
    dstOffset: ip.dstOffset,
    targetOffset,
    router: (flags & FLAG_ROUTER) !== 0,
    solicited,
    override: (flags & FLAG_OVERRIDE) !== 0,
    linkLayerMac,
  };
}

/** ff02::1:ffXX:XXXX for a target address (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(target: Uint8Array): Buffer {
  const out = Buffer.alloc(IPV6_ADDRESS_LENGTH);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = target[13];
  out[14] = target[14];
  out[15] = target[15];
  return out;
}

/** 33:33:xx:xx:xx:xx, the Ethernet address of an IPv6 multicast group (RFC 2464 §7). */
export function ipv6MulticastMac(group: Uint8Array): number {
  return 0x3333 * 0x100000000 + (((group[12] << 24) | (group[13] << 16) | (group[14] << 8) | group[15]) >>> 0);
}

function writeNeighborFrame(
  buf: Uint8Array,
  off: number,
  dstMac: number,
  srcMac: number,
  src: Uint8Array,
  dst: Uint8Array,
  type: number,
  flags: number,
  target: Uint8Array,
  option: number,
): number {
  const messageLength = ND_MESSAGE_LENGTH + (option > 0 ? ND_LINK_LAYER_OPTION_LENGTH : 0);
  const frameLength = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + messageLength;
  if (!(off >= 0) || off + frameLength > buf.length || target.length !== IPV6_ADDRESS_LENGTH) return -1;
  const ipOff = off + ETHERNET_HEADER_LENGTH;
  const header = { src, dst, nextHeader: IP_PROTOCOL_ICMPV6, payloadLength: messageLength, hopLimit: ND_HOP_LIMIT };
  if (writeIpv6Header(buf, ipOff, header) < 0) return -1;
  writeEthernetHeader(buf, off, dstMac, srcMac, ETHERTYPE_IPV6);
  const m = ipOff + IPV6_HEADER_LENGTH;
  buf.fill(0, m, m + messageLength);
  buf[m] = type;
  buf[m + 4] = flags;
  buf.set(target, m + TARGET_OFFSET);
  if (option > 0) {
    buf[m + ND_MESSAGE_LENGTH] = option;
    buf[m + ND_MESSAGE_LENGTH + 1] = ND_LINK_LAYER_OPTION_LENGTH / 8;
    writeMac(buf, m + ND_MESSAGE_LENGTH + 2, srcMac);
  }
  const checksum = icmpv6Checksum(buf, ipOff, messageLength);
  buf[m + 2] = checksum >>> 8;
  buf[m + 3] = checksum & 0xff;
  return frameLength;
}

export interface NeighborSolicitationFields {
  /** Ethernet source, and the MAC in the source link-layer option. */
  srcMac: number;
  /** 16 bytes; all zero (::) for duplicate address detection, which omits the link-layer option. */
  srcIp: Uint8Array;
  targetIp: Uint8Array;
}

/**
 * Writes an Ethernet + IPv6 + NS frame to the target's solicited-node group
 * (86 bytes, 78 for DAD). Returns the frame length, or -1 when it does not fit.
 */
export function writeNeighborSolicitation(buf: Uint8Array, off: number, f: NeighborSolicitationFields): number {
  if (f.targetIp.length !== IPV6_ADDRESS_LENGTH || f.srcIp.length !== IPV6_ADDRESS_LENGTH) return -1;
  const group = solicitedNodeAddress(f.targetIp);
  const option = isUnspecified(f.srcIp, 0) ? 0 : ND_OPTION_SOURCE_LINK_LAYER;
  const type = ICMPV6_TYPE_NEIGHBOR_SOLICITATION;
  return writeNeighborFrame(buf, off, ipv6MulticastMac(group), f.srcMac, f.srcIp, group, type, 0, f.targetIp, option);
}

export interface NeighborAdvertisementFields {
  /** Ethernet source, and the MAC in the target link-layer option (the advertiser answers for itself). */
  srcMac: number;
  /** Ethernet destination; for ff02::1 use ipv6MulticastMac. */
  dstMac: number;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  targetIp: Uint8Array;
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
}

/** Writes an Ethernet + IPv6 + NA frame with a target link-layer option (86 bytes). Returns 86 or -1. */
export function writeNeighborAdvertisement(buf: Uint8Array, off: number, f: NeighborAdvertisementFields): number {
  const flags = (f.router ? FLAG_ROUTER : 0) | (f.solicited ? FLAG_SOLICITED : 0) | (f.override ? FLAG_OVERRIDE : 0);
  const type = ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT;
  const option = ND_OPTION_TARGET_LINK_LAYER;
  return writeNeighborFrame(buf, off, f.dstMac, f.srcMac, f.srcIp, f.dstIp, type, flags, f.targetIp, option);
}
