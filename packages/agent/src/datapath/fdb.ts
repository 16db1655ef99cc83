/**
 * The forwarding database of one VNI (the data path keeps one per network).
 *
 * Spec
 *  - Key: (vni, mac). One Fdb per VNI. Inside, the MAC is split into two
 *    24-bit halves (OUI, device part), each a small integer, and entries sit in
 *    a Map of Maps keyed by them: a lookup allocates nothing (a 48-bit number
 *    as a Map key would be boxed on every call). The management API takes the
 *    MAC as one 48-bit number (@dvs/wire readMac); the hot path the halves.
 *  - Value: a location — a local port, or a remote VTEP (peer) — plus seq
 *    (RFC 7432 §15 mobility sequence number), last-seen time, move count and
 *    whether the entry is static.
 *  - Learning: the source MAC of every frame from a local port (location: the
 *    port) and of every decapsulated frame (location: the sending VTEP). A
 *    learn refreshes last-seen; a learn at another location is a move: the
 *    entry follows the MAC and the move is counted. A MAC that moves from a
 *    remote VTEP to a local port takes seq = old seq + 1 (the seq to report).
 *  - Control entries (`fdb:set` from the controller or static config without
 *    `static`) are authoritative remote locations that never age; data-plane
 *    learning may still move them (the fast migration path), after which they
 *    are ordinary dynamic entries until the controller speaks again. A control
 *    entry with a seq lower than a local entry's seq does not displace it (our
 *    local report is newer).
 *  - Aging: a dynamic entry not seen for `agingMs` (default 300 s) is removed
 *    by expire(now). The clock is injected, so tests age without waiting.
 *  - Size limit: at most `limit` dynamic entries per VNI. Learning a new MAC in
 *    a full table evicts one entry first, fairly: from the location (port or
 *    VTEP) holding the most dynamic entries, its least recently seen entry
 *    (ties: the lowest MAC) —
 *    one noisy port cannot push out everyone else's MACs (OVS does the same).
 *  - Static entries (static config, `static: true`) never age, are never
 *    evicted, never move by learning, and do not count towards the limit.
 *    A table with no dynamic entry to evict refuses the learn (counted).
 *
 * Cost: lookup and refresh are one Map.get and a field store. Eviction scans
 * the entries of one location, and only runs when the table is full.
 */
import type { FdbCounters } from './counters.js';
import type { Peer } from './peer.js';
import type { Port } from './port.js';

export const DEFAULT_AGING_MS = 300_000;

const HALF = 0x1000000;
/** The upper 24 bits (OUI) of a 48-bit MAC number. */
export function macHigh(mac: number): number {
  return Math.floor(mac / HALF);
}
/** The lower 24 bits of a 48-bit MAC number. */
export function macLow(mac: number): number {
  return mac % HALF;
}
export const DEFAULT_FDB_LIMIT = 8192;

export type FdbLocation = Port | Peer;

export class FdbEntry {
  /** Set by control entries: never ages (until learning moves it). */
  control = false;
  moves = 0;

  constructor(
    readonly vni: number,
    readonly mac: number,
    public location: FdbLocation,
    /** true when the location is a local port (fast check without instanceof). */
    public local: boolean,
    public seq: number,
    public lastSeen: number,
    readonly isStatic: boolean,
  ) {}

  get dynamic(): boolean {
    return !this.isStatic && !this.control;
  }
}

/** What learn() did; the data path turns these into events. */
export const LearnResult = {
  Refreshed: 0,
  Learned: 1,
  Moved: 2,
  /** Static entry: nothing changed. */
  Ignored: 3,
  /** Table full of static entries: nothing learned. */
  Refused: 4,
} as const;
export type LearnResult = (typeof LearnResult)[keyof typeof LearnResult];

export interface FdbOptions {
  agingMs?: number;
  limit?: number;
}

export class Fdb {
  /** OUI → (device part → entry). */
  private readonly table = new Map<number, Map<number, FdbEntry>>();
  private count = 0;
  readonly agingMs: number;
  readonly limit: number;
  /** Dynamic entries per location (for fair eviction). */
  private readonly dynamicByLocation = new Map<FdbLocation, number>();
  private dynamicCount = 0;
  /** The entry touched by the last learn(): its previous location after a move. */
  lastMovedFrom: FdbLocation | null = null;
  /** Set when the last learn() evicted an entry (the data path reports a local one as gone). */
  lastEvicted: FdbEntry | null = null;

  constructor(
    readonly vni: number,
    readonly counters: FdbCounters,
    options: FdbOptions = {},
  ) {
    this.agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    this.limit = options.limit ?? DEFAULT_FDB_LIMIT;
  }

  get size(): number {
    return this.count;
  }

  /** Every entry (a copy; off the hot path). */
  values(): FdbEntry[] {
    const out: FdbEntry[] = [];
    for (const inner of this.table.values()) for (const e of inner.values()) out.push(e);
    return out;
  }

  lookup(mac: number): FdbEntry | undefined {
    return this.lookupHalves(macHigh(mac), macLow(mac));
  }

  /** Hot-path lookup by the MAC's two 24-bit halves. */
  lookupHalves(high: number, low: number): FdbEntry | undefined {
    const inner = this.table.get(high);
    return inner === undefined ? undefined : inner.get(low);
  }

  /** Learns `mac` at `location` (a port when `local`), at time `now`. */
  learn(mac: number, location: FdbLocation, local: boolean, now: number): LearnResult {
    return this.learnHalves(macHigh(mac), macLow(mac), location, local, now);
  }

  /** learn() by the MAC's two 24-bit halves (the hot path: nothing allocated on a refresh). */
  learnHalves(high: number, low: number, location: FdbLocation, local: boolean, now: number): LearnResult {
    this.lastMovedFrom = null;
    this.lastEvicted = null;
    const entry = this.lookupHalves(high, low);
    if (entry !== undefined) {
      if (entry.location === location) {
        entry.lastSeen = now;
        return LearnResult.Refreshed;
      }
      if (entry.isStatic) return LearnResult.Ignored;
      this.lastMovedFrom = entry.location;
      if (entry.control) {
        entry.control = false;
        this.countDynamic(location, 1);
      } else {
        this.countDynamic(entry.location, -1);
        this.countDynamic(location, 1);
      }
      if (local && !entry.local) entry.seq++;
      entry.location = location;
      entry.local = local;
      entry.lastSeen = now;
      entry.moves++;
      this.counters.moves++;
      return LearnResult.Moved;
    }
    if (this.dynamicCount >= this.limit && !this.evictOne()) {
      this.counters.refused++;
      return LearnResult.Refused;
    }
    this.insert(new FdbEntry(this.vni, high * HALF + low, location, local, 0, now, false));
    this.countDynamic(location, 1);
    this.counters.learns++;
    return LearnResult.Learned;
  }

  /**
   * learn(), taken back afterwards: the dry run of `trace` learns for real (so
   * what follows in the pipeline sees exactly the table a frame would leave),
   * then undo() restores the entry, an evicted entry, the per-location counts
   * and the counters as they were.
   */
  learnReversibly(
    high: number,
    low: number,
    location: FdbLocation,
    local: boolean,
    now: number,
  ): { result: LearnResult; undo: () => void } {
    const entry = this.lookupHalves(high, low);
    const saved =
      entry === undefined
        ? null
        : {
            location: entry.location,
            local: entry.local,
            seq: entry.seq,
            lastSeen: entry.lastSeen,
            moves: entry.moves,
            control: entry.control,
          };
    const counters = { ...this.counters };
    const byLocation = new Map(this.dynamicByLocation);
    const dynamicCount = this.dynamicCount;
    const result = this.learnHalves(high, low, location, local, now);
    const evicted = this.lastEvicted;
    const undo = (): void => {
      if (result === LearnResult.Learned) {
        const added = this.lookupHalves(high, low);
        if (added !== undefined) this.remove(added);
      }
      if (evicted !== null) this.insert(evicted);
      if (entry !== undefined && saved !== null) Object.assign(entry, saved);
      Object.assign(this.counters, counters);
      this.dynamicByLocation.clear();
      for (const [where, n] of byLocation) this.dynamicByLocation.set(where, n);
      this.dynamicCount = dynamicCount;
      this.lastMovedFrom = null;
      this.lastEvicted = null;
    };
    return { result, undo };
  }

  /**
   * Sets an authoritative remote (or static) location from the control plane.
   * Returns the replaced entry when it was local (the MAC left this host), else null.
   * A local entry with a seq newer than `seq` is kept (returns null, nothing changed).
   */
  setControl(mac: number, peer: Peer, seq: number, isStatic: boolean, now: number): FdbEntry | null {
    const old = this.lookup(mac);
    if (old !== undefined) {
      if (old.local && !isStatic && old.seq > seq) return null;
      this.remove(old);
    }
    const entry = new FdbEntry(this.vni, mac, peer, false, seq, now, isStatic);
    entry.control = !isStatic;
    this.insert(entry);
    return old !== undefined && old.local ? old : null;
  }

  /** Adds a static entry on a local port (static config). */
  setStaticLocal(mac: number, port: Port, now: number): FdbEntry | undefined {
    const old = this.lookup(mac);
    if (old !== undefined) this.remove(old);
    this.insert(new FdbEntry(this.vni, mac, port, true, 0, now, true));
    return old;
  }

  delete(mac: number): FdbEntry | undefined {
    const entry = this.lookup(mac);
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  /** Removes dynamic entries not seen within agingMs of `now`; returns them. */
  expire(now: number): FdbEntry[] {
    const gone: FdbEntry[] = [];
    for (const entry of this.values()) {
      if (entry.dynamic && now - entry.lastSeen >= this.agingMs) gone.push(entry);
    }
    for (const entry of gone) this.remove(entry);
    this.counters.aged += gone.length;
    return gone;
  }

  /** Removes every non-static entry at `location` (a port going away, a peer leaving the VNI). */
  removeLocation(location: FdbLocation, includeStatic = false): FdbEntry[] {
    const gone: FdbEntry[] = [];
    for (const entry of this.values()) {
      if (entry.location === location && (includeStatic || !entry.isStatic)) gone.push(entry);
    }
    for (const entry of gone) this.remove(entry);
    return gone;
  }

  /** Removes every dynamic (learned) entry; static and control entries stay. Returns the removed ones. */
  flush(): FdbEntry[] {
    const gone: FdbEntry[] = [];
    for (const entry of this.values()) if (entry.dynamic) gone.push(entry);
    for (const entry of gone) this.remove(entry);
    return gone;
  }

  /** Dynamic entries held by each location (for tests and `fdb/show`). */
  dynamicCountOf(location: FdbLocation): number {
    return this.dynamicByLocation.get(location) ?? 0;
  }

  private insert(entry: FdbEntry): void {
    const high = macHigh(entry.mac);
    let inner = this.table.get(high);
    if (inner === undefined) this.table.set(high, (inner = new Map()));
    inner.set(macLow(entry.mac), entry);
    this.count++;
  }

  private remove(entry: FdbEntry): void {
    const high = macHigh(entry.mac);
    const inner = this.table.get(high);
    if (inner === undefined || !inner.delete(macLow(entry.mac))) return;
    if (inner.size === 0) this.table.delete(high);
    this.count--;
    if (entry.dynamic) this.countDynamic(entry.location, -1);
  }

  private countDynamic(location: FdbLocation, delta: number): void {
    const n = (this.dynamicByLocation.get(location) ?? 0) + delta;
    if (n <= 0) this.dynamicByLocation.delete(location);
    else this.dynamicByLocation.set(location, n);
    this.dynamicCount += delta;
  }

  /** Fair eviction: the least recently seen entry of the location with the most dynamic entries. */
  private evictOne(): boolean {
    let biggest: FdbLocation | null = null;
    let most = 0;
    for (const [location, n] of this.dynamicByLocation) {
      if (n > most) {
        most = n;
        biggest = location;
      }
    }
    if (biggest === null) return false;
    let victim: FdbEntry | null = null;
    for (const entry of this.values()) {
      if (entry.location !== biggest || !entry.dynamic) continue;
      // Ties go to the lowest MAC: the choice depends on the table's content, never on its insertion order.
      if (
        victim === null ||
        entry.lastSeen < victim.lastSeen ||
        (entry.lastSeen === victim.lastSeen && entry.mac < victim.mac)
      )
        victim = entry;
    }
    if (victim === null) return false;
    this.remove(victim);
    this.lastEvicted = victim;
    this.counters.evictions++;
    return true;
  }
}
