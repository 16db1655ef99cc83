/**
 * The IP bindings of one VNI: which MAC owns an IPv4 or IPv6 address (EVPN's
 * Type-2 MAC+IP), what ARP and ND suppression answers from (arp-responder.ts).
 *
 * Spec
 *  - Key: (vni, IP). One table per VNI. IPv4 addresses are keyed by their two
 *    16-bit halves in a Map of Maps and IPv6 addresses by a small-integer hash
 *    then compared byte by byte, so a lookup allocates nothing (as KnownVteps).
 *  - Value: the owning MAC (as two 24-bit halves, the FDB's hot-path form),
 *    where the binding came from (`local`: learned from a frame of a local
 *    port; `remote`: published by the controller with the MAC's FDB entry)
 *    and when it was last confirmed.
 *  - Live: a binding counts only while its MAC has an entry in the VNI's FDB
 *    (local port or remote VTEP). A MAC that aged out, left with its port or
 *    was removed by the controller takes its bindings' answers with it, so
 *    no answer names a MAC the switch cannot reach.
 *  - The binding moves with the MAC: a migrated VM keeps its MAC, so its
 *    bindings stay true wherever the FDB puts the MAC next.
 *  - Conflicts: a second MAC claiming a live binding's IP loses (first one
 *    wins, as EVPN's duplicate-IP detection freezes the first); the claim is
 *    counted and the latest few claims are kept for the views (a repeat of
 *    the same claim only bumps its count: nothing allocates). A claim on a
 *    binding whose MAC is no longer live takes it over.
 *  - Size limit: at most `limit` bindings per VNI; a new IP beyond it is
 *    refused and counted (`refused`).
 *
 * Cost: lookup and refresh are two Map.gets and a field store; only a new
 * binding or a new conflict allocates.
 */
import { formatIpv4Address, formatIpv6Address, type ParsedIpAddress } from '@dvs/wire';
import type { Fdb, FdbEntry } from './fdb.js';
import { ipv6EqualsAt, ipv6HashAt } from './peer.js';

export const DEFAULT_BINDING_LIMIT = 8192;
/** Conflicts kept for the views, per VNI (the count keeps counting). */
export const MAX_KEPT_CONFLICTS = 16;

export type BindingOrigin = 'local' | 'remote';

export class IpBinding {
  constructor(
    readonly family: 4 | 6,
    /** IPv4: the address's upper and lower 16 bits; IPv6: 0. */
    readonly v4High: number,
    readonly v4Low: number,
    /** IPv6: the 16 bytes; IPv4: null. */
    readonly ipv6: Uint8Array | null,
    public macHigh: number,
    public macLow: number,
    public origin: BindingOrigin,
    public lastSeen: number,
  ) {}

  get mac(): number {
    return this.macHigh * 0x1000000 + this.macLow;
  }

  /** Canonical text of the address (not for the hot path). */
  get ip(): string {
    return this.family === 4
      ? formatIpv4Address(((this.v4High << 16) | this.v4Low) >>> 0)
      : formatIpv6Address(this.ipv6 as Uint8Array, 0);
  }
}

/** A claim that lost: `loser` said it owns the IP of `binding`, which another MAC holds. */
export class IpConflict {
  count = 1;
  constructor(
    readonly binding: IpBinding,
    readonly loserHigh: number,
    readonly loserLow: number,
    public lastSeen: number,
  ) {}

  get loser(): number {
    return this.loserHigh * 0x1000000 + this.loserLow;
  }
}

/** What bind() did. */
export const BindResult = {
  /** Already bound to this MAC: confirmed. */
  Refreshed: 0,
  /** A new binding (or one taken over from a MAC that is no longer live, or moved to another MAC by the controller). */
  Bound: 1,
  /** Another live MAC holds the IP: refused and counted. */
  Conflict: 2,
  /** The table is full. */
  Refused: 3,
} as const;
export type BindResult = (typeof BindResult)[keyof typeof BindResult];

export interface BindingCounters {
  /** ARP requests and NSs answered from the table. */
  answered: number;
  /** ARP requests and NSs for an IP the table does not know (live), flooded as before. */
  flooded: number;
  /** Claims of a bound IP by another MAC. */
  conflicts: number;
  /** New IPs refused by a full table. */
  refused: number;
}

export class IpBindings {
  readonly counters: BindingCounters = { answered: 0, flooded: 0, conflicts: 0, refused: 0 };
  /** The latest conflicts (at most MAX_KEPT_CONFLICTS), oldest first. */
  readonly conflicts: IpConflict[] = [];
  private readonly v4 = new Map<number, Map<number, IpBinding>>();
  private readonly v6 = new Map<number, IpBinding[]>();
  private count = 0;
  /** Set by the last bind() that returned Bound: the binding. */
  lastBound: IpBinding | null = null;

  constructor(
    private readonly fdb: Fdb,
    private readonly limit = DEFAULT_BINDING_LIMIT,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The FDB entry of the binding's MAC; undefined when the MAC is not live (then the binding answers nothing). */
  ownerEntry(binding: IpBinding): FdbEntry | undefined {
    return this.fdb.lookupHalves(binding.macHigh, binding.macLow);
  }

  /** Whether the binding's MAC is in the VNI's FDB. */
  isLive(binding: IpBinding): boolean {
    return this.ownerEntry(binding) !== undefined;
  }

  /** The binding of the IPv4 address whose upper and lower 16 bits are given. */
  lookupV4(high: number, low: number): IpBinding | undefined {
    const inner = this.v4.get(high);
    return inner === undefined ? undefined : inner.get(low);
  }

  /** The binding of the IPv6 address at `off` of `bytes`. */
  lookupV6(bytes: Uint8Array, off: number): IpBinding | undefined {
    const bucket = this.v6.get(ipv6HashAt(bytes, off));
    if (bucket === undefined) return undefined;
    for (let k = 0; k < bucket.length; k++)
      if (ipv6EqualsAt(bucket[k].ipv6 as Uint8Array, bytes, off)) return bucket[k];
    return undefined;
  }

  /** Binds the IPv4 address (16-bit halves) to the MAC (24-bit halves). */
  bindV4(high: number, low: number, macHigh: number, macLow: number, origin: BindingOrigin, now: number): BindResult {
    const held = this.lookupV4(high, low);
    if (held !== undefined) return this.claim(held, macHigh, macLow, origin, now);
    if (this.count >= this.limit) return this.refuse();
    let inner = this.v4.get(high);
    if (inner === undefined) this.v4.set(high, (inner = new Map()));
    const binding = new IpBinding(4, high, low, null, macHigh, macLow, origin, now);
    inner.set(low, binding);
    return this.added(binding);
  }

  /** Binds the IPv6 address at `off` of `bytes` to the MAC (24-bit halves). */
  bindV6(
    bytes: Uint8Array,
    off: number,
    macHigh: number,
    macLow: number,
    origin: BindingOrigin,
    now: number,
  ): BindResult {
    const held = this.lookupV6(bytes, off);
    if (held !== undefined) return this.claim(held, macHigh, macLow, origin, now);
    if (this.count >= this.limit) return this.refuse();
    const address = Uint8Array.from(bytes.subarray(off, off + 16));
    const binding = new IpBinding(6, 0, 0, address, macHigh, macLow, origin, now);
    const hash = ipv6HashAt(address, 0);
    const bucket = this.v6.get(hash);
    if (bucket === undefined) this.v6.set(hash, [binding]);
    else bucket.push(binding);
    return this.added(binding);
  }

  /** Every binding (views, tests). */
  values(): IpBinding[] {
    const out: IpBinding[] = [];
    for (const inner of this.v4.values()) for (const b of inner.values()) out.push(b);
    for (const bucket of this.v6.values()) out.push(...bucket);
    return out;
  }

  /** The bindings of one MAC (48-bit number). */
  ofMac(mac: number): IpBinding[] {
    return this.values().filter((b) => b.mac === mac);
  }

  /** Removes one binding. */
  remove(binding: IpBinding): void {
    if (binding.family === 4) {
      const inner = this.v4.get(binding.v4High);
      if (inner?.get(binding.v4Low) !== binding) return;
      inner.delete(binding.v4Low);
      if (inner.size === 0) this.v4.delete(binding.v4High);
    } else {
      const hash = ipv6HashAt(binding.ipv6 as Uint8Array, 0);
      const bucket = this.v6.get(hash);
      const at = bucket === undefined ? -1 : bucket.indexOf(binding);
      if (at < 0) return;
      bucket!.splice(at, 1);
      if (bucket!.length === 0) this.v6.delete(hash);
    }
    this.count--;
  }

  /**
   * The controller's word on a MAC's IPs (its FDB entry's `ips`, already
   * parsed): the MAC's remote bindings become exactly these. Local bindings of
   * the MAC that the list leaves out stay (this host saw them itself).
   * Returns the IPs it could not bind (held by another live MAC: conflicts).
   */
  setRemote(macHigh: number, macLow: number, ips: readonly ParsedIpAddress[], now: number): number {
    let refused = 0;
    const wanted = new Set<IpBinding>();
    for (const ip of ips) {
      const v4High = ip.family === 4 ? ip.ipv4 >>> 16 : 0;
      const v4Low = ip.family === 4 ? ip.ipv4 & 0xffff : 0;
      const result =
        ip.family === 4
          ? this.bindV4(v4High, v4Low, macHigh, macLow, 'remote', now)
          : this.bindV6(ip.ipv6, 0, macHigh, macLow, 'remote', now);
      const held = ip.family === 4 ? this.lookupV4(v4High, v4Low) : this.lookupV6(ip.ipv6, 0);
      if (result === BindResult.Conflict || result === BindResult.Refused) refused++;
      else if (held !== undefined) {
        held.origin = 'remote';
        wanted.add(held);
      }
    }
    for (const b of this.values()) {
      if (b.macHigh === macHigh && b.macLow === macLow && b.origin === 'remote' && !wanted.has(b)) this.remove(b);
    }
    return refused;
  }

  /**
   * The controller withdrew a MAC's entry. Its remote bindings go, unless the
   * MAC is now local here (a VM that migrated to this host: the bindings move
   * with the MAC and become local).
   */
  dropRemote(macHigh: number, macLow: number, nowLocal: boolean): void {
    for (const b of this.values()) {
      if (b.macHigh !== macHigh || b.macLow !== macLow || b.origin !== 'remote') continue;
      if (nowLocal) b.origin = 'local';
      else this.remove(b);
    }
  }

  private claim(held: IpBinding, macHigh: number, macLow: number, origin: BindingOrigin, now: number): BindResult {
    if (held.macHigh === macHigh && held.macLow === macLow) {
      held.lastSeen = now;
      return BindResult.Refreshed;
    }
    // The controller may move an IP between two of its own (remote) bindings; anyone may take a dead one.
    const takeOver = !this.isLive(held) || (origin === 'remote' && held.origin === 'remote');
    if (!takeOver) {
      this.counters.conflicts++;
      this.keepConflict(held, macHigh, macLow, now);
      return BindResult.Conflict;
    }
    held.macHigh = macHigh;
    held.macLow = macLow;
    held.origin = origin;
    held.lastSeen = now;
    this.lastBound = held;
    return BindResult.Bound;
  }

  private added(binding: IpBinding): BindResult {
    this.count++;
    this.lastBound = binding;
    return BindResult.Bound;
  }

  private refuse(): BindResult {
    this.counters.refused++;
    return BindResult.Refused;
  }

  private keepConflict(binding: IpBinding, loserHigh: number, loserLow: number, now: number): void {
    const kept = this.conflicts;
    for (let k = 0; k < kept.length; k++) {
      const c = kept[k];
      if (c.binding === binding && c.loserHigh === loserHigh && c.loserLow === loserLow) {
        c.count++;
        c.lastSeen = now;
        return;
      }
    }
    if (kept.length >= MAX_KEPT_CONFLICTS) kept.shift();
    kept.push(new IpConflict(binding, loserHigh, loserLow, now));
  }
}
