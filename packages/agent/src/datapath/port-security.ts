/**
 * Port security: what a port may send (glossary "port security"), checked
 * on every frame from the port before it is learned or switched.
 *
 *  - Allowed pairs (OVN's port_security): MAC → IP addresses. A frame whose
 *    source MAC is not allowed is dropped (`port-security`). For a MAC with
 *    addresses, IPv4 and IPv6 sources must be among them (0.0.0.0 and ::
 *    pass, for DHCP and duplicate address detection; the MAC's EUI-64
 *    link-local address passes too), ARP must carry the frame's MAC and an
 *    allowed (or zero) sender IP (`arp-spoof`), and neighbour discovery must
 *    claim only allowed addresses and the frame's MAC (`nd-spoof`). A MAC
 *    without addresses restricts the MAC only.
 *  - Lock to first MAC: without configured pairs, the first source MAC the
 *    port sends becomes its one allowed MAC (any IP) for the port's life.
 *  - MAC limit: at most `maxMacs` learned MACs on the port per VNI; a frame
 *    from one more is dropped (`mac-limit`) until one ages out.
 *  - Storm control (storm-control.ts): broadcast, multicast and unknown
 *    unicast flooded from the port, each limited in frames per second.
 *
 * The spec is JSON-shaped (config file, `ports/add`, the state file); the
 * guard parses it once. check() allocates nothing.
 */
import {
  formatMac,
  parseIpAddress,
  parseMac,
  type AllowedPair,
  type PortSecurity,
  type PortSecurityCounters,
} from '@dvs/wire';
import type { DropReason } from './counters.js';
import { DataPathError } from './data-path-error.js';
import { bytesEqualAt, macHighAt, macLowAt, u16At } from './frame-read.js';
import { StormControl } from './storm-control.js';

export const MAX_ALLOWED_PAIRS = 64;
export const MAX_STORM_PPS = 10_000_000;

export type { AllowedPair, PortSecurity, PortSecurityCounters };

export function newPortSecurityCounters(): PortSecurityCounters {
  return {
    portSecurity: 0,
    arpSpoof: 0,
    ndSpoof: 0,
    macLimit: 0,
    taggedOnAccess: 0,
    stormBroadcast: 0,
    stormMulticast: 0,
    stormUnknownUnicast: 0,
  };
}

/** The addresses one allowed MAC may use. */
class AllowedIps {
  /** IPv4: upper 16 bits → lower 16 bits (small integers: no boxing). */
  readonly v4 = new Map<number, Set<number>>();
  readonly v6: Uint8Array[] = [];
  constructor(readonly any: boolean) {}

  hasV4At(buf: Uint8Array, off: number): boolean {
    return this.v4.get(u16At(buf, off))?.has(u16At(buf, off + 2)) === true;
  }

  hasV6At(buf: Uint8Array, off: number): boolean {
    for (let k = 0; k < this.v6.length; k++) if (bytesEqualAt(this.v6[k], 0, buf, off, 16)) return true;
    return false;
  }
}

const ANY = new AllowedIps(true);

function isZeroAt(buf: Uint8Array, off: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (buf[off + k] !== 0) return false;
  return true;
}

/** The EUI-64 link-local address (fe80::/64) of the frame's source MAC at `macOff`. */
function isEui64LinkLocalAt(buf: Uint8Array, off: number, macOff: number): boolean {
  return (
    buf[off] === 0xfe &&
    buf[off + 1] === 0x80 &&
    isZeroAt(buf, off + 2, 6) &&
    buf[off + 8] === (buf[macOff] ^ 2) &&
    buf[off + 9] === buf[macOff + 1] &&
    buf[off + 10] === buf[macOff + 2] &&
    buf[off + 11] === 0xff &&
    buf[off + 12] === 0xfe &&
    bytesEqualAt(buf, off + 13, buf, macOff + 3, 3)
  );
}

const ETH = 14;

/** Why `spec` is not valid port security for port `portName` (naming the field), or null. */
export function checkPortSecurity(spec: PortSecurity, portName: string): string | null {
  try {
    new PortGuard(spec, portName);
    return null;
  } catch (err) {
    if (err instanceof DataPathError) return err.message;
    throw err;
  }
}

/** Whether a spec asks for nothing (no port security). */
export function isEmptyPortSecurity(spec: PortSecurity | undefined): boolean {
  return spec === undefined || Object.keys(spec).length === 0;
}

export class PortGuard {
  readonly maxMacs: number;
  readonly storm: StormControl | null;
  /** Source MACs restricted (allowed pairs, or lock to first MAC). */
  readonly restricted: boolean;
  readonly lockFirstMac: boolean;
  /** The MAC locked to (lockFirstMac), or null before the first frame. */
  lockedMac: number | null = null;
  private readonly allowed = new Map<number, Map<number, AllowedIps>>();

  /** Throws DataPathError (DVS_BAD_ARGUMENT) naming the field when `spec` is invalid. */
  constructor(
    readonly spec: PortSecurity,
    portName: string,
  ) {
    const bad = (field: string, why: string): DataPathError =>
      new DataPathError('DVS_BAD_ARGUMENT', `port ${portName}: security.${field}: ${why}`);
    const allowed = spec.allowed ?? [];
    if (!Array.isArray(allowed) || allowed.length > MAX_ALLOWED_PAIRS)
      throw bad('allowed', `a list of at most ${MAX_ALLOWED_PAIRS} {mac, ips} pairs`);
    allowed.forEach((pair, i) => {
      const mac = parseMac(pair?.mac);
      if (mac === null || mac % 0x20000000000 >= 0x10000000000)
        throw bad(`allowed[${i}].mac`, `${JSON.stringify(pair?.mac)} is not a unicast MAC (52:54:00:12:34:56)`);
      const ips = pair.ips ?? [];
      if (!Array.isArray(ips)) throw bad(`allowed[${i}].ips`, 'a list of IP addresses');
      const entry = ips.length === 0 ? ANY : new AllowedIps(false);
      for (const text of ips) {
        const ip = parseIpAddress(text);
        if (ip === null) throw bad(`allowed[${i}].ips`, `${JSON.stringify(text)} is not an IP address`);
        if (ip.family === 4) {
          let lows = entry.v4.get(ip.ipv4 >>> 16);
          if (lows === undefined) entry.v4.set(ip.ipv4 >>> 16, (lows = new Set()));
          lows.add(ip.ipv4 & 0xffff);
        } else entry.v6.push(ip.ipv6);
      }
      this.put(Math.floor(mac / 0x1000000), mac % 0x1000000, entry);
    });
    this.lockFirstMac = spec.lockFirstMac === true;
    if (this.lockFirstMac && allowed.length > 0)
      throw bad('lockFirstMac', 'give either allowed pairs or lockFirstMac, not both');
    this.restricted = allowed.length > 0 || this.lockFirstMac;
    const maxMacs = spec.maxMacs ?? 0;
    if (!Number.isInteger(maxMacs) || maxMacs < 0 || maxMacs > 1_000_000)
      throw bad('maxMacs', 'an integer 0..1000000 (0: no limit)');
    this.maxMacs = maxMacs;
    const storm = spec.storm ?? {};
    for (const key of ['broadcastPps', 'multicastPps', 'unknownUnicastPps'] as const) {
      const v = storm[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_STORM_PPS))
        throw bad(`storm.${key}`, `frames per second, an integer 0..${MAX_STORM_PPS} (0: no limit)`);
    }
    const limited = (storm.broadcastPps ?? 0) + (storm.multicastPps ?? 0) + (storm.unknownUnicastPps ?? 0) > 0;
    this.storm = limited ? new StormControl(storm) : null;
  }

  /**
   * The drop reason for the frame at `off` (`len` bytes, untagged) from this
   * port, or null when it may pass. Locks the first MAC when asked to.
   */
  check(buf: Uint8Array, off: number, len: number): DropReason | null {
    if (!this.restricted) return null;
    const high = macHighAt(buf, off + 6);
    const low = macLowAt(buf, off + 6);
    let ips = this.allowed.get(high)?.get(low);
    if (ips === undefined) {
      if (!this.lockFirstMac || this.lockedMac !== null) return 'port-security';
      this.lockedMac = high * 0x1000000 + low;
      this.put(high, low, ANY);
      ips = ANY;
    }
    if (ips.any) return null;
    const type = u16At(buf, off + 12);
    if (type === 0x0806) return this.checkArp(ips, buf, off, len);
    if (type === 0x0800) {
      if (len < ETH + 20) return 'port-security';
      return isZeroAt(buf, off + ETH + 12, 4) || ips.hasV4At(buf, off + ETH + 12) ? null : 'port-security';
    }
    if (type === 0x86dd) return this.checkIpv6(ips, buf, off, len);
    return null;
  }

  private checkArp(ips: AllowedIps, buf: Uint8Array, off: number, len: number): DropReason | null {
    const arp = off + ETH;
    if (len < ETH + 28) return 'arp-spoof';
    // Sender hardware address must be the frame's own MAC; sender IP allowed (0.0.0.0: a probe).
    if (!bytesEqualAt(buf, arp + 8, buf, off + 6, 6)) return 'arp-spoof';
    if (isZeroAt(buf, arp + 14, 4) || ips.hasV4At(buf, arp + 14)) return null;
    return 'arp-spoof';
  }

  private ownsV6(ips: AllowedIps, buf: Uint8Array, at: number, off: number): boolean {
    return ips.hasV6At(buf, at) || isEui64LinkLocalAt(buf, at, off + 6);
  }

  private checkIpv6(ips: AllowedIps, buf: Uint8Array, off: number, len: number): DropReason | null {
    const ip6 = off + ETH;
    if (len < ETH + 40) return 'port-security';
    const src = ip6 + 8;
    const icmp = ip6 + 40;
    const nd = buf[ip6 + 6] === 58 && len >= ETH + 40 + 24 && buf[icmp] >= 135 && buf[icmp] <= 136;
    if (!isZeroAt(buf, src, 16) && !this.ownsV6(ips, buf, src, off)) return nd ? 'nd-spoof' : 'port-security';
    if (!nd) return null;
    // A neighbour advertisement claims its target address.
    if (buf[icmp] === 136 && !this.ownsV6(ips, buf, icmp + 8, off)) return 'nd-spoof';
    // Source/target link-layer address options must name the frame's own MAC.
    const end = Math.min(off + len, ip6 + 40 + u16At(buf, ip6 + 4));
    for (let o = icmp + 24; o + 8 <= end;) {
      const optLen = buf[o + 1] * 8;
      if (optLen === 0) return 'nd-spoof';
      if ((buf[o] === 1 || buf[o] === 2) && !bytesEqualAt(buf, o + 2, buf, off + 6, 6)) return 'nd-spoof';
      o += optLen;
    }
    return null;
  }

  /** The allowed pairs as configured, and the locked MAC. */
  describe(): PortSecurity & { lockedMac?: string } {
    return {
      ...this.spec,
      ...(this.lockedMac !== null ? { lockedMac: formatMac(this.lockedMac) } : {}),
    };
  }

  private put(high: number, low: number, ips: AllowedIps): void {
    let inner = this.allowed.get(high);
    if (inner === undefined) this.allowed.set(high, (inner = new Map()));
    inner.set(low, ips);
  }
}
