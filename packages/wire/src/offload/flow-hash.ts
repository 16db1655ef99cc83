// Per-flow entropy (RFC 7348 §5, RFC 8086 §3.2): the outer UDP source port is
// a hash of the inner flow, so that the underlay's ECMP and the receivers'
// RSS spread flows while every packet of one flow takes one path (no
// reordering). The flow is what the kernel's flow dissector would use:
//   - the Ethernet destination and source MACs, always;
//   - the IPv4 or IPv6 source and destination addresses and the protocol;
//   - the transport source and destination ports for TCP, UDP, UDP-Lite,
//     SCTP and DCCP, unless the packet is an IPv4 fragment (later fragments
//     carry no ports, and all fragments of a datagram must stay together).
// The VLAN tag is not part of it: MACs and addresses already tell flows
// apart, and a tag pushed or popped on the way must not move a flow.
//
// The hash is MurmurHash3's 32-bit block mix and finaliser over those fields
// as 32-bit words, cut to its top 30 bits: a handful of multiplies, and a
// result V8 keeps as a small integer (a full 32-bit value above 2^30 would be
// boxed on the heap each time it is returned). tunnelSourcePort
// (frames/udp.ts) maps it into the configured port range.

import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, IPV4_SRC_OFFSET } from '../frames/ipv4.js';
import { IPV6_SRC_OFFSET } from '../frames/ipv6.js';
import { FrameLayout, parseFrameLayout } from './frame-layout.js';

const IP_PROTOCOL_DCCP = 33;
const IP_PROTOCOL_SCTP = 132;
const IP_PROTOCOL_UDPLITE = 136;
const MAC_PAIR_LENGTH = 12;

const scratch = new FrameLayout();

/**
 * The 30-bit flow hash (0..2^30-1) of the inner frame buf[off, off+length) (see the file
 * comment for the fields). Frames shorter than 12 bytes hash as an empty
 * flow. `seed` lets a host pick its own mapping (the kernel uses a random one
 * per boot); 0 by default, so hosts agree. Never throws, never reads out of
 * bounds, no allocation.
 */
export function innerFlowHash(buf: Uint8Array, off: number, length: number, seed = 0): number {
  const avail = Math.min(length, buf.length - off);
  if (!(off >= 0) || !(avail >= MAC_PAIR_LENGTH)) return fmix(seed, 0);
  if (!parseFrameLayout(buf, off, avail, scratch)) {
    let h = seed | 0;
    for (let i = 0; i < MAC_PAIR_LENGTH; i += 4) h = mix(h, word(buf, off + i));
    return fmix(mix(h, scratch.ethertype), MAC_PAIR_LENGTH + 4);
  }
  return flowHashOfLayout(buf, off, scratch, seed);
}

/** innerFlowHash of a frame whose layout the caller already parsed (parseFrameLayout returned true). */
export function flowHashOfLayout(buf: Uint8Array, off: number, layout: FrameLayout, seed = 0): number {
  let h = seed | 0;
  for (let i = 0; i < MAC_PAIR_LENGTH; i += 4) h = mix(h, word(buf, off + i));
  h = mix(h, (layout.ethertype << 16) | layout.protocol);
  const ip = off + layout.l2Length;
  let words = 4;
  if (layout.ipVersion === 4) {
    h = mix(h, word(buf, ip + IPV4_SRC_OFFSET));
    h = mix(h, word(buf, ip + IPV4_SRC_OFFSET + 4));
    words += 2;
  } else {
    for (let i = 0; i < 32; i += 4) h = mix(h, word(buf, ip + IPV6_SRC_OFFSET + i));
    words += 8;
  }
  if (!layout.fragment && hasPorts(layout.protocol) && layout.l4Length >= 4) {
    h = mix(h, word(buf, off + layout.l4Offset));
    words++;
  }
  return fmix(h, words * 4);
}

function hasPorts(protocol: number): boolean {
  return (
    protocol === IP_PROTOCOL_TCP ||
    protocol === IP_PROTOCOL_UDP ||
    protocol === IP_PROTOCOL_UDPLITE ||
    protocol === IP_PROTOCOL_SCTP ||
    protocol === IP_PROTOCOL_DCCP
  );
}

function word(buf: Uint8Array, off: number): number {
  return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}
