// The byte comparisons behind coalescing: is a frame of the same flow as a
// run's first frame, and may its segment follow the run's last one? These
// mirror the kernel's tcp_gro_receive/inet_gro_receive/ipv6_gro_receive
// (and wireguard-go's tcpPacketsCanCoalesce), slightly stricter: the window
// must match too, so a super-frame re-segmented gives back exactly the
// segments that went in.
//
// Both frames are described by one layout (the caller checked that their
// L2, IP and TCP header lengths agree); offsets are frame starts.

import { addChecksumBytes, finishChecksum, internetChecksum } from '../frames/checksum.js';
import { IP_PROTOCOL_TCP, IPV4_SRC_OFFSET, ipv4PseudoHeaderSumAt } from '../frames/ipv4.js';
import { IPV6_SRC_OFFSET, ipv6PseudoHeaderSum } from '../frames/ipv6.js';
import { TCP_ACK_OFFSET, TCP_HEADER_MIN_LENGTH, TCP_WINDOW_OFFSET } from '../frames/tcp.js';

function equalBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/**
 * Same flow: identical Ethernet header (MACs, tag, EtherType), IP addresses
 * and TCP ports. `l2` and `l4` are the shared L2 length and transport offset.
 */
export function sameTcpFlow(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  l2: number,
  ipVersion: number,
  l4: number,
): boolean {
  if (!equalBytes(a, aOff, b, bOff, l2)) return false;
  const addresses = ipVersion === 4 ? IPV4_SRC_OFFSET : IPV6_SRC_OFFSET;
  const addressBytes = ipVersion === 4 ? 8 : 32;
  if (!equalBytes(a, aOff + l2 + addresses, b, bOff + l2 + addresses, addressBytes)) return false;
  return equalBytes(a, aOff + l4, b, bOff + l4, 4);
}

/**
 * The IP and TCP header fields a merged segment must share with the run:
 * IPv4 TOS, flags (DF) and TTL; IPv6 version/traffic class/flow label and hop
 * limit; TCP acknowledgment number, window and options, byte for byte.
 * Flags and sequence numbers are the caller's.
 */
export function sameSegmentHeaders(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  l2: number,
  ipVersion: number,
  l4: number,
  tcpHeaderLength: number,
): boolean {
  const ipA = aOff + l2;
  const ipB = bOff + l2;
  if (ipVersion === 4) {
    if (a[ipA + 1] !== b[ipB + 1] || a[ipA + 8] !== b[ipB + 8]) return false;
    if ((a[ipA + 6] & 0xe0) !== (b[ipB + 6] & 0xe0)) return false;
  } else if (!equalBytes(a, ipA, b, ipB, 4) || a[ipA + 7] !== b[ipB + 7]) {
    return false;
  }
  const tA = aOff + l4;
  const tB = bOff + l4;
  if (!equalBytes(a, tA + TCP_ACK_OFFSET, b, tB + TCP_ACK_OFFSET, 4)) return false;
  if (!equalBytes(a, tA + TCP_WINDOW_OFFSET, b, tB + TCP_WINDOW_OFFSET, 2)) return false;
  return equalBytes(
    a,
    tA + TCP_HEADER_MIN_LENGTH,
    b,
    tB + TCP_HEADER_MIN_LENGTH,
    tcpHeaderLength - TCP_HEADER_MIN_LENGTH,
  );
}

/**
 * True when the frame's IPv4 header checksum (if IPv4) and TCP checksum
 * verify. A super-frame goes to the TAP with NEEDS_CSUM, so the kernel would
 * compute a fresh checksum over whatever it holds: a segment damaged on the
 * way must be caught here, or coalescing would make it look sound.
 */
export function tcpFrameChecksumsValid(
  buf: Uint8Array,
  off: number,
  l2: number,
  ipVersion: number,
  l4: number,
  l4Length: number,
): boolean {
  const ip = off + l2;
  let pseudo: number;
  if (ipVersion === 4) {
    if (internetChecksum(buf, ip, l4 - l2) !== 0) return false;
    pseudo = ipv4PseudoHeaderSumAt(buf, ip, IP_PROTOCOL_TCP, l4Length);
  } else {
    pseudo = ipv6PseudoHeaderSum(buf, ip, l4Length, IP_PROTOCOL_TCP);
  }
  return finishChecksum(addChecksumBytes(pseudo, buf, off + l4, l4Length)) === 0;
}
