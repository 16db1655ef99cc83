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
 *    `static`) are authoritative remote locations that never age. A control
 *    entry with a seq lower than a local entry's seq does not displace it (our
 *    local report is newer).
 *  - MAC locations follow the control plane (`trustControlPlane`, an agent
 *    with etcd; glossary "provisional move"). A tunnel frame claiming a MAC
 *    the controller placed elsewhere moves it *provisionally*: frames go to
 *    the claiming VTEP and, as a copy, to the controller's location, until the
 *    controller confirms the claim (an fdb:set naming the claimant) within
 *    `confirmMs`; otherwise expireProvisional() moves it back, counts a learn
 *    conflict, and ignores that VTEP's claims on the MAC until the controller
 *    places it anew. A frame of the MAC from its home (the controller's VTEP)
 *    before that ends the claim the same way (Reclaimed), and so does the
 *    controller placing it anywhere but at the claimant. A tunnel frame never moves a MAC away from a local port
 *    that is up and saw it within `localHoldMs` (held, counted as a learn
 *    conflict); an older local entry moves provisionally, with the port as
 *    its home. Without trustControlPlane (static peers only, or etcd
 *    unreachable: no controller could confirm), learning moves every
 *    non-static entry at once, as before, and nothing reverts.
 *  - Aging: a dynamic entry not seen for `agingMs` (default 300 s) is removed
 *    by expire(now). The clock is injected, so tests age without waiting.
 *  - Size limit: at most `limit` dynamic entries per VNI. Learning a new MAC in
 *    a full table evicts one entry first, fairly: from the location (port or
 *    VTEP) holding the most dynamic entries, its least recently seen entry —
 *    one noisy port cannot push out everyone else's MACs (OVS does the same).
 *    Each location keeps its dynamic entries in least-recently-seen order (an
 *    intrusive list, lru-list.ts), so an eviction costs O(locations), not a
 *    scan of the table.
 *  - Static entries (static config, `static: true`) never age, are never
 *    evicted, never move by learning, and do not count towards the limit.
 *    A table with no dynamic entry to evict refuses the learn (counted).
 *
 * Cost: lookup and refresh are one Map.get and a few field stores.
 */
import type { FdbCounters } from './counters.js';
import { LruList } from './lru-list.js';
import type { Peer } from './peer.js';
import type { Port } from './port.js';

export const DEFAULT_AGING_MS = 300_000;
/** How long a provisional move waits for the controller's confirmation. */
export const DEFAULT_CONFIRM_MS = 1000;
/** A local port that saw a MAC this recently keeps it against tunnel claims. */
export const DEFAULT_LOCAL_HOLD_MS = 2000;

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
  /** Set by control entries: never ages. */
  control = false;
  moves = 0;
  /** Least-recently-seen links within the dynamic entries of its location. */
  prev: FdbEntry | null = null;
  next: FdbEntry | null = null;
  /** Provisional move: where the MAC goes back to (the controller's VTEP or the local port); null otherwise. */
  home: FdbLocation | null = null;
  homeLocal = false;
  homeControl = false;
  /** Provisional move: when it reverts unless confirmed (ms). */
  provisionalUntil = 0;
  /** A VTEP whose claim on this MAC was reverted or held: its further claims are ignored. */
  rejected: Peer | null = null;

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
    return !this.isStatic && !this.control && this.home === null;
  }
}

/** The local port an entry stands for: its location, or the home of a provisional move away from it. */
export function localPortOf(entry: FdbEntry): Port | null {
  if (entry.local) return entry.location as Port;
  return entry.home !== null && entry.homeLocal ? (entry.home as Port) : null;
}

/** What learn() did; the data path turns these into events. */
export const LearnResult = {
  Refreshed: 0,
  Learned: 1,
  Moved: 2,
  /** Static entry, or a claim of a VTEP already rejected for this MAC: nothing changed. */
  Ignored: 3,
  /** Table full of static entries: nothing learned. */
  Refused: 4,
  /** A tunnel claim on a MAC a local port saw recently: the port keeps it (a learn conflict). */
  Held: 5,
  /** A tunnel claim against the controller's (or an idle local port's) entry: moved until confirmed. */
  Provisional: 6,
  /**
   * A provisionally moved MAC seen at its home again (the controller's VTEP,
   * or the local port): back home, and the claim is a learn conflict.
   */
  Reclaimed: 7,
} as const;
export type LearnResult = (typeof LearnResult)[keyof typeof LearnResult];

export interface FdbOptions {
  agingMs?: number;
  limit?: number;
  /** MAC locations follow the control plane (provisional moves, local hold). Default false. */
  trustControlPlane?: boolean;
  confirmMs?: number;
  localHoldMs?: number;
}

/** A provisional move that expired: the entry (back home) and the VTEP whose claim was undone. */
export interface RevertedMove {
  entry: FdbEntry;
  claimant: Peer;
}

export class Fdb {
  /** OUI → (device part → entry). */
  private readonly table = new Map<number, Map<number, FdbEntry>>();
  private count = 0;
  readonly agingMs: number;
  readonly limit: number;
  /** Changed by DataPath.setControlPlaneUp (etcd away: learning decides, as with static peers). */
  trustControlPlane: boolean;
  readonly confirmMs: number;
  readonly localHoldMs: number;
  /** Dynamic entries per location, least recently seen first (fair eviction). */
  private readonly dynamicByLocation = new Map<FdbLocation, LruList<FdbEntry>>();
  private dynamicCount = 0;
  /** Entries moved provisionally, waiting for the controller. */
  private readonly provisional = new Set<FdbEntry>();
  /** The entry touched by the last learn(): its previous location after a move. */
  lastMovedFrom: FdbLocation | null = null;
  /** Set when the last learn() evicted an entry (the data path reports a local one as gone). */
  lastEvicted: FdbEntry | null = null;
  /** Set when the last setControl() placed a provisionally moved MAC elsewhere than its claimant: the claimant. */
  lastContradicted: Peer | null = null;

  constructor(
    readonly vni: number,
    readonly counters: FdbCounters,
    options: FdbOptions = {},
  ) {
    this.agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    this.limit = options.limit ?? DEFAULT_FDB_LIMIT;
    this.trustControlPlane = options.trustControlPlane ?? false;
    this.confirmMs = options.confirmMs ?? DEFAULT_CONFIRM_MS;
    this.localHoldMs = options.localHoldMs ?? DEFAULT_LOCAL_HOLD_MS;
  }

  get size(): number {
    return this.count;
  }

  /** Entries moved provisionally now. */
  get provisionalCount(): number {
    return this.provisional.size;
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
        if (entry.lastSeen !== now) {
          entry.lastSeen = now;
          if (entry.dynamic) this.dynamicByLocation.get(location)?.touch(entry);
        }
        return LearnResult.Refreshed;
      }
      if (entry.isStatic) return LearnResult.Ignored;
      if (entry.home === location) return this.comeHome(entry, now);
      if (!local && this.trustControlPlane) {
        const claimed = this.tunnelClaim(entry, location as Peer, now);
        if (claimed !== LearnResult.Moved) return claimed;
      }
      this.lastMovedFrom = entry.location;
      this.unlinkDynamic(entry);
      if (entry.home !== null) this.endProvisional(entry);
      entry.control = false;
      if (local && !entry.local) entry.seq++;
      entry.location = location;
      entry.local = local;
      entry.lastSeen = now;
      entry.moves++;
      this.counters.moves++;
      this.linkDynamic(entry);
      return LearnResult.Moved;
    }
    if (this.dynamicCount >= this.limit && !this.evictOne()) {
      this.counters.refused++;
      return LearnResult.Refused;
    }
    const added = new FdbEntry(this.vni, high * HALF + low, location, local, 0, now, false);
    this.insert(added);
    this.linkDynamic(added);
    this.counters.learns++;
    return LearnResult.Learned;
  }

  /**
   * A tunnel claim under trustControlPlane: Held, Ignored or Provisional, or
   * Moved when it is an ordinary move (a learned remote entry, or another
   * claimant of a MAC already moved provisionally — it takes the claim over,
   * with the same deadline).
   */
  private tunnelClaim(entry: FdbEntry, peer: Peer, now: number): LearnResult {
    if (entry.home !== null) {
      if (entry.rejected === peer) {
        this.counters.claimsIgnored++;
        return LearnResult.Ignored;
      }
      this.lastMovedFrom = entry.location;
      entry.location = peer;
      entry.lastSeen = now;
      entry.moves++;
      this.counters.moves++;
      return LearnResult.Provisional;
    }
    if (entry.rejected === peer) {
      this.counters.claimsIgnored++;
      return LearnResult.Ignored;
    }
    if (entry.local) {
      const port = entry.location as Port;
      if (port.up && now - entry.lastSeen < this.localHoldMs) {
        entry.rejected = peer;
        this.counters.learnConflicts++;
        return LearnResult.Held;
      }
    } else if (!entry.control) return LearnResult.Moved;
    this.lastMovedFrom = entry.location;
    this.unlinkDynamic(entry);
    entry.home = entry.location;
    entry.homeLocal = entry.local;
    entry.homeControl = entry.control;
    entry.provisionalUntil = now + this.confirmMs;
    entry.location = peer;
    entry.local = false;
    entry.control = false;
    entry.lastSeen = now;
    entry.moves++;
    this.counters.moves++;
    this.counters.provisional++;
    this.provisional.add(entry);
    return LearnResult.Provisional;
  }

  /**
   * A provisional entry seen at its home again: back home; the claim was
   * contradicted by the MAC itself (a learn conflict), and its claimant is
   * ignored for the MAC from then on. lastMovedFrom is the claimant.
   */
  private comeHome(entry: FdbEntry, now: number): LearnResult {
    const claimant = entry.location as Peer;
    this.lastMovedFrom = claimant;
    this.revert(entry);
    entry.rejected = claimant;
    entry.lastSeen = now;
    entry.moves++;
    this.counters.moves++;
    this.counters.learnConflicts++;
    return LearnResult.Reclaimed;
  }

  private revert(entry: FdbEntry): void {
    entry.location = entry.home as FdbLocation;
    entry.local = entry.homeLocal;
    entry.control = entry.homeControl;
    this.endProvisional(entry);
    this.linkDynamic(entry);
  }

  private endProvisional(entry: FdbEntry): void {
    entry.home = null;
    entry.provisionalUntil = 0;
    this.provisional.delete(entry);
  }

  /**
   * Moves every provisional entry whose deadline passed back home; each is a
   * learn conflict, and its claimant is ignored for the MAC from then on
   * (until the controller sets the entry anew). Returns what was reverted.
   */
  expireProvisional(now: number): RevertedMove[] {
    if (!this.trustControlPlane || this.provisional.size === 0) return [];
    const out: RevertedMove[] = [];
    for (const entry of [...this.provisional]) {
      if (entry.provisionalUntil > now) continue;
      const claimant = entry.location as Peer;
      this.revert(entry);
      entry.rejected = claimant;
      entry.moves++;
      this.counters.learnConflicts++;
      out.push({ entry, claimant });
    }
    return out;
  }

  /**
   * learn(), taken back afterwards: the dry run of `trace` learns for real (so
   * what follows in the pipeline sees exactly the table a frame would leave),
   * then undo() restores the entry (and its place in its location's order),
   * an evicted entry, and the counters as they were.
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
            home: entry.home,
            homeLocal: entry.homeLocal,
            homeControl: entry.homeControl,
            provisionalUntil: entry.provisionalUntil,
            rejected: entry.rejected,
          };
    const wasDynamic = entry?.dynamic === true;
    const prevInList = entry?.prev ?? null;
    const counters = { ...this.counters };
    const result = this.learnHalves(high, low, location, local, now);
    const evicted = this.lastEvicted;
    const undo = (): void => {
      if (result === LearnResult.Learned) {
        const added = this.lookupHalves(high, low);
        if (added !== undefined) this.remove(added);
      }
      if (evicted !== null) {
        this.insert(evicted);
        this.listOf(evicted.location).insertAfter(evicted, null);
        this.dynamicCount++;
      }
      if (entry !== undefined && saved !== null) {
        this.unlinkDynamic(entry);
        Object.assign(entry, saved);
        if (entry.home !== null) this.provisional.add(entry);
        else this.provisional.delete(entry);
        if (wasDynamic) {
          this.listOf(entry.location).insertAfter(entry, prevInList);
          this.dynamicCount++;
        }
      }
      Object.assign(this.counters, counters);
      this.lastMovedFrom = null;
      this.lastEvicted = null;
    };
    return { result, undo };
  }

  /**
   * Sets an authoritative remote (or static) location from the control plane.
   * Returns the local port the MAC left (it was local, or provisionally moved
   * away from a local port), else null. A local entry with a seq newer than
   * `seq` is kept (returns null, nothing changed). Setting the entry a
   * provisional move claimed confirms it; setting it anywhere else ends the
   * move as a learn conflict (lastContradicted: the claimant, whose claims on
   * the MAC stay ignored).
   */
  setControl(mac: number, peer: Peer, seq: number, isStatic: boolean, now: number): Port | null {
    this.lastContradicted = null;
    const old = this.lookup(mac);
    let leftPort: Port | null = null;
    let rejected: Peer | null = null;
    if (old !== undefined) {
      leftPort = localPortOf(old);
      if (leftPort !== null && !isStatic && old.seq > seq) return null;
      if (old.home !== null && old.location === peer) this.counters.confirmed++;
      else if (old.home !== null) {
        this.counters.learnConflicts++;
        this.lastContradicted = rejected = old.location as Peer;
      } else if (old.location === peer) rejected = old.rejected;
      this.remove(old);
    }
    const entry = new FdbEntry(this.vni, mac, peer, false, seq, now, isStatic);
    entry.control = !isStatic;
    entry.rejected = rejected;
    this.insert(entry);
    return leftPort;
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
    for (const list of this.dynamicByLocation.values()) {
      // Least recently seen first: the first one still fresh ends the walk.
      for (let e = list.head; e !== null && now - e.lastSeen >= this.agingMs; e = e.next) gone.push(e);
    }
    for (const entry of gone) this.remove(entry);
    this.counters.aged += gone.length;
    return gone;
  }

  /**
   * Removes every non-static entry at `location` (a port going away, a peer
   * leaving the VNI), and every provisional move whose home or claimant it is.
   */
  removeLocation(location: FdbLocation, includeStatic = false): FdbEntry[] {
    const gone: FdbEntry[] = [];
    for (const entry of this.values()) {
      if ((entry.location === location || entry.home === location) && (includeStatic || !entry.isStatic))
        gone.push(entry);
    }
    for (const entry of gone) this.remove(entry);
    return gone;
  }

  /** Removes every dynamic (learned) entry; static, control and provisional entries stay. Returns the removed ones. */
  flush(): FdbEntry[] {
    const gone: FdbEntry[] = [];
    for (const entry of this.values()) if (entry.dynamic) gone.push(entry);
    for (const entry of gone) this.remove(entry);
    return gone;
  }

  /** Dynamic entries held by each location (for tests, `fdb/show` and the port MAC limit). */
  dynamicCountOf(location: FdbLocation): number {
    return this.dynamicByLocation.get(location)?.count ?? 0;
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
    this.unlinkDynamic(entry);
    if (entry.home !== null) this.provisional.delete(entry);
  }

  private listOf(location: FdbLocation): LruList<FdbEntry> {
    let list = this.dynamicByLocation.get(location);
    if (list === undefined) this.dynamicByLocation.set(location, (list = new LruList<FdbEntry>()));
    return list;
  }

  /** Adds a dynamic entry to its location's list as the most recently seen (no-op for other entries). */
  private linkDynamic(entry: FdbEntry): void {
    if (!entry.dynamic) return;
    this.listOf(entry.location).append(entry);
    this.dynamicCount++;
  }

  private unlinkDynamic(entry: FdbEntry): void {
    if (!entry.dynamic) return;
    const list = this.dynamicByLocation.get(entry.location);
    if (list === undefined) return;
    list.remove(entry);
    this.dynamicCount--;
    if (list.count === 0) this.dynamicByLocation.delete(entry.location);
  }

  /**
   * Fair eviction: the least recently seen entry of the location with the
   * most dynamic entries. Ties go to the location whose oldest entry is the
   * oldest, then to the lower MAC: never to the Map's insertion order, which
   * a trace's undo may change (the trace must predict the eviction exactly).
   */
  private evictOne(): boolean {
    let biggest: LruList<FdbEntry> | null = null;
    for (const list of this.dynamicByLocation.values()) {
      if (list.head === null) continue;
      if (biggest === null || biggest.head === null || list.count > biggest.count) biggest = list;
      else if (list.count === biggest.count) {
        const a = list.head;
        const b = biggest.head;
        if (a.lastSeen < b.lastSeen || (a.lastSeen === b.lastSeen && a.mac < b.mac)) biggest = list;
      }
    }
    const victim = biggest?.head ?? null;
    if (victim === null) return false;
    this.remove(victim);
    this.lastEvicted = victim;
    this.counters.evictions++;
    return true;
  }
}
