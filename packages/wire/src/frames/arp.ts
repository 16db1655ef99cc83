// ARP (RFC 826) and RARP (RFC 903) for Ethernet/IPv4, the only kind dvs snoops
// and sends. Payload layout (28 bytes, after the Ethernet/802.1Q header):
//
//   htype(2)=1 ptype(2)=0x0800 hlen(1)=6 plen(1)=4 op(2)
//   sender hw(6) sender ip(4) target hw(6) target ip(4)
//
// Builders write a whole untagged frame (Ethernet header + payload) padded
// with zeros to the 60-byte Ethernet minimum.

import {
  ETHERNET_HEADER_LENGTH,
  ETHERNET_MIN_FRAME_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_RARP,
} from './ethernet.js';
import { readIpv4Address, writeIpv4Address } from './ipv4-address.js';
import { BROADCAST_MAC, readMac, writeMac, writeMacHalves } from './mac.js';

export const ARP_LENGTH = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
/** RARP "request reverse": what QEMU broadcasts after a migration. */
export const RARP_OP_REQUEST_REVERSE = 3;
export const RARP_OP_REPLY_REVERSE = 4;
/** Length of every frame the builders write (Ethernet minimum without FCS). */
export const ARP_FRAME_LENGTH = ETHERNET_MIN_FRAME_LENGTH;

/** Field offsets inside the ARP payload (after the Ethernet header). */
export const ARP_OP_OFFSET = 6;
export const ARP_SENDER_MAC_OFFSET = 8;
export const ARP_SENDER_IP_OFFSET = 14;
export const ARP_TARGET_MAC_OFFSET = 18;
export const ARP_TARGET_IP_OFFSET = 24;
const OP_OFFSET = ARP_OP_OFFSET;
const SENDER_MAC_OFFSET = ARP_SENDER_MAC_OFFSET;
const SENDER_IP_OFFSET = ARP_SENDER_IP_OFFSET;
const TARGET_MAC_OFFSET = ARP_TARGET_MAC_OFFSET;
const TARGET_IP_OFFSET = ARP_TARGET_IP_OFFSET;

export interface ArpPacket {
  /** 1 request, 2 reply, 3 RARP request reverse, 4 RARP reply reverse (other values are returned as read). */
  op: number;
  senderMac: number;
  /** Unsigned 32-bit IPv4 address. */
  senderIp: number;
  targetMac: number;
  targetIp: number;
}

/**
 * Decodes the ARP/RARP payload at `off` (`length` bytes available). Null when
 * shorter than 28 bytes or not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6,
 * plen 4). Trailing padding is ignored.
 */
export function decodeArp(buf: Uint8Array, off: number, length: number): ArpPacket | null {
  if (!isEthernetIpv4Arp(buf, off, length)) return null;
  return {
    op: (buf[off + OP_OFFSET] << 8) | buf[off + OP_OFFSET + 1],
    senderMac: readMac(buf, off + SENDER_MAC_OFFSET),
    senderIp: readIpv4Address(buf, off + SENDER_IP_OFFSET),
    targetMac: readMac(buf, off + TARGET_MAC_OFFSET),
    targetIp: readIpv4Address(buf, off + TARGET_IP_OFFSET),
  };
}

/**
 * What decodeArp checks, without decoding: 28 bytes at `off` inside `buf`
 * and Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4). Allocates
 * nothing (the data path's form; it then reads the fields at the ARP_*_OFFSETs).
 */
export function isEthernetIpv4Arp(buf: Uint8Array, off: number, length: number): boolean {
  if (!(off >= 0) || length < ARP_LENGTH || off + ARP_LENGTH > buf.length) return false;
  if (((buf[off] << 8) | buf[off + 1]) !== ARP_HTYPE_ETHERNET) return false;
  if (((buf[off + 2] << 8) | buf[off + 3]) !== ETHERTYPE_IPV4) return false;
  return buf[off + 4] === 6 && buf[off + 5] === 4;
}

/**
 * Turns the ARP request frame at `off` (Ethernet header first, payload
 * checked by isEthernetIpv4Arp) into the reply "target IP is at the MAC
 * `high`:`low`", in place, as the owner of the target IP would answer: to
 * the requester's MAC, sender = the answered MAC and IP, target = the
 * requester's MAC and IP, padded with zeros to 60 bytes. Allocates nothing
 * (the ARP suppression path). Returns 60, or -1 (nothing written) when 60
 * bytes do not fit in `buf` at `off`.
 */
export function writeArpReplyInPlace(buf: Uint8Array, off: number, high: number, low: number): number {
  if (!(off >= 0) || off + ARP_FRAME_LENGTH > buf.length) return -1;
  const p = off + ETHERNET_HEADER_LENGTH;
  // The answered IP, kept as bytes: the requester's IP takes its place.
  const t0 = buf[p + TARGET_IP_OFFSET];
  const t1 = buf[p + TARGET_IP_OFFSET + 1];
  const t2 = buf[p + TARGET_IP_OFFSET + 2];
  const t3 = buf[p + TARGET_IP_OFFSET + 3];
  buf.copyWithin(off, p + SENDER_MAC_OFFSET, p + SENDER_MAC_OFFSET + 6);
  writeMacHalves(buf, off + 6, high, low);
  buf[off + 12] = ETHERTYPE_ARP >>> 8;
  buf[off + 13] = ETHERTYPE_ARP & 0xff;
  buf[p + OP_OFFSET] = 0;
  buf[p + OP_OFFSET + 1] = ARP_OP_REPLY;
  buf.copyWithin(p + TARGET_MAC_OFFSET, p + SENDER_MAC_OFFSET, p + SENDER_IP_OFFSET + 4);
  writeMacHalves(buf, p + SENDER_MAC_OFFSET, high, low);
  buf[p + SENDER_IP_OFFSET] = t0;
  buf[p + SENDER_IP_OFFSET + 1] = t1;
  buf[p + SENDER_IP_OFFSET + 2] = t2;
  buf[p + SENDER_IP_OFFSET + 3] = t3;
  buf.fill(0, p + ARP_LENGTH, off + ARP_FRAME_LENGTH);
  return ARP_FRAME_LENGTH;
}

export interface ArpFrameFields extends ArpPacket {
  /** Ethernet destination. */
  dstMac: number;
  /** Ethernet source. */
  srcMac: number;
  /** ETHERTYPE_ARP (default) or ETHERTYPE_RARP. */
  ethertype?: number;
}

/**
 * Writes a complete 60-byte ARP/RARP frame at `off`. Returns 60, or -1
 * (nothing written) when fewer than 60 bytes fit.
 */
export function writeArpFrame(buf: Uint8Array, off: number, f: ArpFrameFields): number {
  if (!(off >= 0) || off + ARP_FRAME_LENGTH > buf.length) return -1;
  const ethertype = f.ethertype ?? ETHERTYPE_ARP;
  writeMac(buf, off, f.dstMac);
  writeMac(buf, off + 6, f.srcMac);
  buf[off + 12] = ethertype >>> 8;
  buf[off + 13] = ethertype & 0xff;
  const p = off + ETHERNET_HEADER_LENGTH;
  buf[p] = 0;
  buf[p + 1] = ARP_HTYPE_ETHERNET;
  buf[p + 2] = ETHERTYPE_IPV4 >>> 8;
  buf[p + 3] = ETHERTYPE_IPV4 & 0xff;
  buf[p + 4] = 6;
  buf[p + 5] = 4;
  buf[p + OP_OFFSET] = f.op >>> 8;
  buf[p + OP_OFFSET + 1] = f.op & 0xff;
  writeMac(buf, p + SENDER_MAC_OFFSET, f.senderMac);
  writeIpv4Address(buf, p + SENDER_IP_OFFSET, f.senderIp);
  writeMac(buf, p + TARGET_MAC_OFFSET, f.targetMac);
  writeIpv4Address(buf, p + TARGET_IP_OFFSET, f.targetIp);
  buf.fill(0, p + ARP_LENGTH, off + ARP_FRAME_LENGTH);
  return ARP_FRAME_LENGTH;
}

/** Broadcast "who has targetIp? tell senderIp" (target MAC zero). Returns 60 or -1. */
export function writeArpRequest(
  buf: Uint8Array,
  off: number,
  senderMac: number,
  senderIp: number,
  targetIp: number,
): number {
  return writeArpFrame(buf, off, {
    dstMac: BROADCAST_MAC,
    srcMac: senderMac,
    op: ARP_OP_REQUEST,
    senderMac,
    senderIp,
    targetMac: 0,
    targetIp,
  });
}

/** Unicast "senderIp is at senderMac" to the requester. Returns 60 or -1. */
export function writeArpReply(
  buf: Uint8Array,
  off: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): number {
  return writeArpFrame(buf, off, {
    dstMac: targetMac,
    srcMac: senderMac,
    op: ARP_OP_REPLY,
    senderMac,
    senderIp,
    targetMac,
    targetIp,
  });
}

/**
 * Gratuitous ARP (RFC 5227 "ARP announcement"): broadcast, sender IP = target
 * IP = `ip`, target MAC zero; op request by default (what Linux `arping -U`
 * sends), or ARP_OP_REPLY. Returns 60 or -1.
 */
export function writeGratuitousArp(buf: Uint8Array, off: number, mac: number, ip: number, op = ARP_OP_REQUEST): number {
  return writeArpFrame(buf, off, {
    dstMac: BROADCAST_MAC,
    srcMac: mac,
    op,
    senderMac: mac,
    senderIp: ip,
    targetMac: 0,
    targetIp: ip,
  });
}

/**
 * The RARP frame QEMU broadcasts after a migration (net/announce.c,
 * announce_self_create): ethertype 0x8035, dst broadcast, src = VM MAC, op 3,
 * sender hw = target hw = VM MAC, both IPs 0, zero-padded to 60 bytes.
 * Returns 60 or -1.
 */
export function writeRarpAnnounce(buf: Uint8Array, off: number, mac: number): number {
  return writeArpFrame(buf, off, {
    dstMac: BROADCAST_MAC,
    srcMac: mac,
    ethertype: ETHERTYPE_RARP,
    op: RARP_OP_REQUEST_REVERSE,
    senderMac: mac,
    senderIp: 0,
    targetMac: mac,
    targetIp: 0,
  });
}

/** Allocating forms for tools and tests (not the hot path). */
export function buildRarpAnnounce(mac: number): Buffer {
  const buf = Buffer.alloc(ARP_FRAME_LENGTH);
  writeRarpAnnounce(buf, 0, mac);
  return buf;
}

export function buildGratuitousArp(mac: number, ip: number, op = ARP_OP_REQUEST): Buffer {
  const buf = Buffer.alloc(ARP_FRAME_LENGTH);
  writeGratuitousArp(buf, 0, mac, ip, op);
  return buf;
}

export function buildArpRequest(senderMac: number, senderIp: number, targetIp: number): Buffer {
  const buf = Buffer.alloc(ARP_FRAME_LENGTH);
  writeArpRequest(buf, 0, senderMac, senderIp, targetIp);
  return buf;
}

export function buildArpReply(senderMac: number, senderIp: number, targetMac: number, targetIp: number): Buffer {
  const buf = Buffer.alloc(ARP_FRAME_LENGTH);
  writeArpReply(buf, 0, senderMac, senderIp, targetMac, targetIp);
  return buf;
}
