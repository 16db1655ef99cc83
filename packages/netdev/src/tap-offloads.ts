import type { FrameOffloads, OffloadRefusal, TapOffload, TapOffloadOptions } from './types.js';

/**
 * TAP offloads (TUNSETOFFLOAD) and how they are negotiated with the kernel.
 *
 * A TAP opened with offloads reads and writes every frame behind a
 * virtio-net header (IFF_VNET_HDR, 10 or 12 bytes: TUNSETVNETHDRSZ), and
 * tells the kernel which frames it may hand over:
 *   csum    frames with a partial checksum (NEEDS_CSUM: the sum from
 *           csum_start is still to be finished);
 *   tso4/6  TCP super-frames over IPv4/IPv6 (GSO_TCPV4/6, up to 64 KiB);
 *   tsoEcn  TCP super-frames carrying CWR (GSO_ECN);
 *   uso4/6  UDP super-frames (GSO_UDP_L4, Linux ≥ 6.2).
 * Asking is a promise that we can segment and finish checksums ourselves
 * (@dvs/wire's segmentSuperFrame, completePartialChecksum).
 *
 * The kernel refuses a mask with a flag it does not know, or one it takes
 * only together with another (TSO and USO need CSUM; ECN needs TSO; this
 * kernel takes USO4 and USO6 only as a pair) with EINVAL, and then sets
 * nothing. So: the whole wish first (one ioctl in the common case); refused,
 * the flags are added one group at a time and every refusal is kept, with
 * its errno, in the device's `offloads.refused`: reported once, never silent.
 */

/** The kernel's TUN_F_* bits (include/uapi/linux/if_tun.h; USO since Linux 6.2, newer than Debian 12's headers). */
export const TUN_OFFLOAD_BITS: Readonly<Record<TapOffload, number>> = Object.freeze({
  csum: 0x01,
  tso4: 0x02,
  tso6: 0x04,
  tsoEcn: 0x08,
  uso4: 0x20,
  uso6: 0x40,
});

/** In the order they are tried when the whole wish is refused: each group needs the ones before it. */
const GROUPS: readonly (readonly TapOffload[])[] = [['csum'], ['tso4'], ['tso6'], ['tsoEcn'], ['uso4', 'uso6']];

export const TAP_OFFLOADS: readonly TapOffload[] = ['csum', 'tso4', 'tso6', 'tsoEcn', 'uso4', 'uso6'];

/**
 * Whether openTap() asks for offloads when its `offloads` option is left out:
 * no. With offloads every frame read and written carries a virtio-net header,
 * so a caller must know about them to ask; the benchmark's figures (TAP reads
 * of a bulk TCP stream, docs/netdev.md) are why a data path that segments
 * should.
 */
export const DEFAULT_TAP_OFFLOADS = false;

/** sizeof(struct virtio_net_hdr): the header length unless headerLength says 12. */
export const DEFAULT_VNET_HEADER_LENGTH = 10;

/** The plain-frames capability (no header, nothing asked). */
export const NO_OFFLOADS: FrameOffloads = Object.freeze({
  vnetHeaderLength: 0,
  enabled: Object.freeze([]) as readonly TapOffload[],
  refused: Object.freeze([]) as readonly OffloadRefusal[],
});

export interface TapOffloadRequest {
  vnetHeaderLength: 0 | 10 | 12;
  wanted: TapOffload[];
}

/** Checks openTap()'s `offloads` option; bad values are RangeErrors naming the field. */
export function parseTapOffloadOption(option: boolean | TapOffloadOptions | undefined): TapOffloadRequest {
  const value = option ?? DEFAULT_TAP_OFFLOADS;
  if (value === false) return { vnetHeaderLength: 0, wanted: [] };
  if (value === true) return { vnetHeaderLength: DEFAULT_VNET_HEADER_LENGTH, wanted: [...TAP_OFFLOADS] };
  if (typeof value !== 'object' || value === null) {
    throw new RangeError(`offloads must be a boolean or an object of offload flags, got ${String(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (key !== 'headerLength' && !(TAP_OFFLOADS as readonly string[]).includes(key)) {
      throw new RangeError(`offloads.${key} is not an offload; known: ${TAP_OFFLOADS.join(', ')}, headerLength`);
    }
  }
  const headerLength = value.headerLength ?? DEFAULT_VNET_HEADER_LENGTH;
  if (headerLength !== 10 && headerLength !== 12) {
    throw new RangeError(`offloads.headerLength must be 10 or 12, got ${String(headerLength)}`);
  }
  const wanted: TapOffload[] = [];
  for (const flag of TAP_OFFLOADS) {
    const on = value[flag] ?? true;
    if (typeof on !== 'boolean') throw new RangeError(`offloads.${flag} must be a boolean, got ${String(on)}`);
    if (on) wanted.push(flag);
  }
  return { vnetHeaderLength: headerLength, wanted };
}

function maskOf(flags: readonly TapOffload[]): number {
  let mask = 0;
  for (const flag of flags) mask |= TUN_OFFLOAD_BITS[flag];
  return mask;
}

/**
 * Sets as many of `request.wanted` as the kernel takes, through `trySet`
 * (TUNSETOFFLOAD with a mask → 0, or the errno of the refusal; a refused call
 * changes nothing). Leaves the device with the accepted mask and returns the
 * capability: what was taken, what was refused and why.
 */
export function negotiateTapOffloads(
  request: TapOffloadRequest,
  trySet: (mask: number) => number,
  errnoName: (errno: number) => string,
): FrameOffloads {
  if (request.vnetHeaderLength === 0) return NO_OFFLOADS;
  const wanted = request.wanted;
  if (wanted.length === 0 || trySet(maskOf(wanted)) === 0) {
    return Object.freeze({
      vnetHeaderLength: request.vnetHeaderLength,
      enabled: Object.freeze([...wanted]),
      refused: Object.freeze([]) as readonly OffloadRefusal[],
    });
  }
  const enabled: TapOffload[] = [];
  const refused: OffloadRefusal[] = [];
  for (const group of GROUPS) {
    const asked = group.filter((flag) => wanted.includes(flag));
    if (asked.length === 0) continue;
    const errno = trySet(maskOf([...enabled, ...asked]));
    if (errno === 0) {
      enabled.push(...asked);
      continue;
    }
    for (const offload of asked) {
      refused.push(Object.freeze({ offload, errno: errnoName(errno), reason: refusalReason(offload, enabled, asked) }));
    }
  }
  return Object.freeze({
    vnetHeaderLength: request.vnetHeaderLength,
    enabled: Object.freeze(enabled),
    refused: Object.freeze(refused),
  });
}

/** Why the kernel most likely said no, for the log line an operator reads. */
function refusalReason(offload: TapOffload, enabled: readonly TapOffload[], asked: readonly TapOffload[]): string {
  if (offload !== 'csum' && !enabled.includes('csum')) return `${offload} needs csum, which was not taken`;
  if (offload === 'tsoEcn' && !enabled.includes('tso4') && !enabled.includes('tso6')) {
    return 'tsoEcn needs tso4 or tso6, neither of which was taken';
  }
  if ((offload === 'uso4' || offload === 'uso6') && asked.length === 1) {
    return `${offload} was asked for without ${offload === 'uso4' ? 'uso6' : 'uso4'}; the kernel takes USO only as a pair`;
  }
  return `this kernel does not offer ${offload}`;
}

/** One line for a log: "TAP vm1: offloads csum, tso4, tso6 (refused: uso4 EINVAL — …)". */
export function describeOffloads(device: string, offloads: FrameOffloads): string {
  if (offloads.vnetHeaderLength === 0) return `${device}: plain frames (no virtio-net header)`;
  const taken = offloads.enabled.length > 0 ? offloads.enabled.join(', ') : 'none';
  const refused = offloads.refused.map((r) => `${r.offload} ${r.errno}: ${r.reason}`).join('; ');
  return `${device}: ${offloads.vnetHeaderLength}-byte virtio-net header, offloads ${taken}${refused === '' ? '' : ` (refused: ${refused})`}`;
}
