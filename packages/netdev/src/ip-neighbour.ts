import { ipAddressBytes, parseIpAddress } from '@dvs/wire';
import type { LinkRef } from './kernel-link-spec.js';
import { NTF_EXT_LEARNED } from './fdb-change.js';
import type { NativeIpNeighChange, NativeIpNeighRecord } from './native-binding.js';
import { checkInteger, invalid } from './netlink-check.js';

/**
 * One change to a device's IP neighbour table (ARP for IPv4, ND for IPv6),
 * for `Rtnetlink.applyIpNeighbours()`: what `ip neigh replace ADDRESS lladdr
 * MAC dev DEVICE nud noarp extern_learn` and `ip neigh del` do. A bridge's
 * neighbour suppression (`neigh_suppress` on a port) answers ARP requests
 * and neighbour solicitations from the bridge device's table; a control
 * plane (EVPN) fills it this way.
 *
 * Entries are NUD_NOARP (valid, never probed) and NTF_EXT_LEARNED (never
 * garbage-collected, and marked as a control plane's: `extern_learn` in
 * `ip neigh`), so that a reconcile can tell them from the kernel's own.
 */
export interface IpNeighbourChange {
  op: 'replace' | 'del';
  device: LinkRef;
  /** IPv4 or IPv6 text. */
  address: string;
  /** The 48-bit MAC (replace only). */
  mac?: number;
}

/** An IP neighbour as the kernel holds it. */
export interface IpNeighbour {
  family: 4 | 6;
  ifindex: number;
  /** Canonical text. */
  address: string;
  /** null: no link-layer address (an incomplete or failed entry). */
  mac: number | null;
  /** Put there by a control plane (NTF_EXT_LEARNED): dvs's, or another's. */
  extLearned: boolean;
  /** NUD_NOARP or NUD_PERMANENT: never probed. */
  static: boolean;
}

const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const MAC_MAX = 2 ** 48 - 1;

/** Checks the changes (DVS_NETLINK_INVALID naming `changes[i].field`) and writes them as the addon reads them. */
export function encodeIpNeighbourChanges(
  changes: readonly IpNeighbourChange[],
  resolve: (ref: LinkRef, field: string) => number,
): NativeIpNeighChange[] {
  if (!Array.isArray(changes)) invalid('changes', 'must be an array of IP neighbour changes');
  return changes.map((c, i) => {
    const field = (name: string): string => `changes[${i}].${name}`;
    if (typeof c !== 'object' || c === null) invalid(`changes[${i}]`, 'must be an IP neighbour change object');
    if (c.op !== 'replace' && c.op !== 'del') invalid(field('op'), "must be 'replace' or 'del'");
    const parsed = typeof c.address === 'string' ? parseIpAddress(c.address) : null;
    if (parsed === null) invalid(field('address'), `must be an IPv4 or IPv6 address, got ${String(c.address)}`);
    const mac = c.op === 'replace' ? checkInteger(c.mac, field('mac'), 1, MAC_MAX) : 0;
    return {
      op: c.op,
      ifindex: resolve(c.device, field('device')),
      family: parsed.family,
      address: Buffer.from(ipAddressBytes(parsed)),
      mac,
      state: NUD_NOARP,
      flags: NTF_EXT_LEARNED,
    };
  });
}

export function ipNeighbourOf(r: NativeIpNeighRecord): IpNeighbour {
  return {
    family: r.family,
    ifindex: r.ifindex,
    address: r.address,
    mac: r.mac < 0 ? null : r.mac,
    extLearned: (r.flags & NTF_EXT_LEARNED) !== 0,
    static: (r.state & (NUD_NOARP | NUD_PERMANENT)) !== 0,
  };
}
