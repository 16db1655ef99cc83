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
import {
  IPV6_ADDRESS_LENGTH,
  IPV6_DST_OFFSET,
  IPV6_HEADER_LENGTH,
  IPV6_SRC_OFFSET,
  ipv6PseudoHeaderSum,
  writeIpv6Header,
} from './ipv6.js';
import { readMac, writeMac, writeMacHalves } from './mac.js';

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

/** checkNeighborMessage's answer for anything that is not a valid NS or NA. */
export const ND_INVALID = -1;
/** checkNeighborMessage's answer for a valid NS or NA without the link-layer option it may carry. */
export const ND_NO_LINK_LAYER_OPTION = 0;

/**
 * Checks that the IPv6 packet at `off` (`length` bytes available; no
 * extension headers) carries a valid NS or NA (RFC 4861 §7.1): hop limit 255,
 * code 0, length >= 24, checksum, target not multicast, options well formed
 * (non-zero length, inside the message), an NS from :: has no source
 * link-layer option, an NA to a multicast destination is not solicited.
 * Allocates nothing (the data path's form). Returns ND_INVALID; or, for a
 * valid message, the absolute offset of the MAC in its source (NS) or target
 * (NA) link-layer option, or ND_NO_LINK_LAYER_OPTION when it has none. The
 * type is at off + 40, the target at off + 48.
 */
export function checkNeighborMessage(buf: Uint8Array, off: number, length: number): number {
  if (!(off >= 0) || length < IPV6_HEADER_LENGTH || off + IPV6_HEADER_LENGTH > buf.length) return ND_INVALID;
  if (buf[off] >>> 4 !== 6 || buf[off + 6] !== IP_PROTOCOL_ICMPV6 || buf[off + 7] !== ND_HOP_LIMIT) return ND_INVALID;
  const messageLength = (buf[off + 4] << 8) | buf[off + 5];
  if (messageLength > Math.min(length, buf.length - off) - IPV6_HEADER_LENGTH) return ND_INVALID;
  if (messageLength < ND_MESSAGE_LENGTH) return ND_INVALID;
  const m = off + IPV6_HEADER_LENGTH;
  const type = buf[m];
  if (type !== ICMPV6_TYPE_NEIGHBOR_SOLICITATION && type !== ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT) return ND_INVALID;
  if (buf[m + 1] !== 0) return ND_INVALID;
  if (icmpv6Checksum(buf, off, messageLength) !== 0) return ND_INVALID;
  if (buf[m + TARGET_OFFSET] === 0xff) return ND_INVALID;
  const wanted = type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION ? ND_OPTION_SOURCE_LINK_LAYER : ND_OPTION_TARGET_LINK_LAYER;
  let linkLayer = ND_NO_LINK_LAYER_OPTION;
  const end = m + messageLength;
  for (let o = m + ND_MESSAGE_LENGTH; o < end;) {
    if (o + 2 > end) return ND_INVALID;
    const optionLength = buf[o + 1] * 8;
    if (optionLength === 0 || o + optionLength > end) return ND_INVALID;
    if (buf[o] === wanted && optionLength >= ND_LINK_LAYER_OPTION_LENGTH && linkLayer === ND_NO_LINK_LAYER_OPTION) {
      linkLayer = o + 2;
    }
    o += optionLength;
  }
  if (type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION) {
    if (isUnspecified(buf, off + IPV6_SRC_OFFSET) && linkLayer !== ND_NO_LINK_LAYER_OPTION) return ND_INVALID;
  } else if (buf[off + IPV6_DST_OFFSET] === 0xff && (buf[m + 4] & FLAG_SOLICITED) !== 0) return ND_INVALID;
  return linkLayer;
}

/**
 * Decodes an NS or NA carried directly in the IPv6 packet at `off` (`length`
 * bytes available; no extension headers). Null for anything else or when a
 * validity check of checkNeighborMessage fails.
 */
export function decodeNeighborMessage(buf: Uint8Array, off: number, length: number): NeighborMessage | null {
  const linkLayer = checkNeighborMessage(buf, off, length);
  if (linkLayer === ND_INVALID) return null;
  const m = off + IPV6_HEADER_LENGTH;
  const type = buf[m] as NeighborMessage['type'];
  const flags = type === ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT ? buf[m + 4] : 0;
  return {
    type,
    srcOffset: off + IPV6_SRC_OFFSET,
    dstOffset: off + IPV6_DST_OFFSET,
    targetOffset: m + TARGET_OFFSET,
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    linkLayerMac: linkLayer === ND_NO_LINK_LAYER_OPTION ? -1 : readMac(buf, linkLayer),
  };
}

/** Length of the NA frame writeNeighborAdvertisementInPlace writes: Ethernet, IPv6, NA, target link-layer option. */
export const ND_ADVERTISEMENT_FRAME_LENGTH =
  ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + ND_MESSAGE_LENGTH + ND_LINK_LAYER_OPTION_LENGTH;

/**
 * Turns the NS frame at `off` (Ethernet header first; checked by
 * checkNeighborMessage, from a unicast source, not ::) into the solicited NA
 * that the owner of the target address would send, in place: Ethernet to
 * the soliciting MAC from the MAC `high`:`low`; IPv6 from the target to the
 * solicitor's address, hop limit 255; flags solicited and override (as
 * Linux's bridge answers for neighbour suppression), router when `router`;
 * a target link-layer option with the MAC; checksum. Allocates nothing.
 * Returns ND_ADVERTISEMENT_FRAME_LENGTH (86), or -1 (nothing written) when
 * it does not fit.
 */
export function writeNeighborAdvertisementInPlace(
  buf: Uint8Array,
  off: number,
  high: number,
  low: number,
  router = false,
): number {
  if (!(off >= 0) || off + ND_ADVERTISEMENT_FRAME_LENGTH > buf.length) return -1;
  const ipOff = off + ETHERNET_HEADER_LENGTH;
  const m = ipOff + IPV6_HEADER_LENGTH;
  const messageLength = ND_MESSAGE_LENGTH + ND_LINK_LAYER_OPTION_LENGTH;
  buf.copyWithin(off, off + 6, off + 12);
  writeMacHalves(buf, off + 6, high, low);
  buf[off + 12] = ETHERTYPE_IPV6 >>> 8;
  buf[off + 13] = ETHERTYPE_IPV6 & 0xff;
  buf[ipOff] = 0x60;
  buf[ipOff + 1] = 0;
  buf[ipOff + 2] = 0;
  buf[ipOff + 3] = 0;
  buf[ipOff + 4] = 0;
  buf[ipOff + 5] = messageLength;
  buf[ipOff + 6] = IP_PROTOCOL_ICMPV6;
  buf[ipOff + 7] = ND_HOP_LIMIT;
  buf.copyWithin(ipOff + IPV6_DST_OFFSET, ipOff + IPV6_SRC_OFFSET, ipOff + IPV6_DST_OFFSET);
  buf.copyWithin(ipOff + IPV6_SRC_OFFSET, m + TARGET_OFFSET, m + TARGET_OFFSET + IPV6_ADDRESS_LENGTH);
  buf[m] = ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT;
  buf[m + 1] = 0;
  buf[m + 2] = 0;
  buf[m + 3] = 0;
  buf[m + 4] = FLAG_SOLICITED | FLAG_OVERRIDE | (router ? FLAG_ROUTER : 0);
  buf[m + 5] = 0;
  buf[m + 6] = 0;
  buf[m + 7] = 0;
  const option = m + ND_MESSAGE_LENGTH;
  buf[option] = ND_OPTION_TARGET_LINK_LAYER;
  buf[option + 1] = ND_LINK_LAYER_OPTION_LENGTH / 8;
  writeMacHalves(buf, option + 2, high, low);
  const checksum = icmpv6Checksum(buf, ipOff, messageLength);
  buf[m + 2] = checksum >>> 8;
  buf[m + 3] = checksum & 0xff;
  return ND_ADVERTISEMENT_FRAME_LENGTH;
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
