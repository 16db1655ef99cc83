/**
 * MAC mobility bookkeeping (RFC 7432 §15) for the table computation.
 *
 * Per (vni, mac) the leader remembers the times of recent moves and the last
 * winning claim. A move is a new winning claim at a different host than the
 * current entry. More than `maxMoves` moves within `windowMs` marks the MAC
 * duplicate: its entry is frozen at its last location (EVPN's default: 5 moves
 * in 180 s). A frozen MAC is released when no new claim has arrived for a
 * whole window, or when its frozen location disappears.
 *
 * History lives only in the leader's memory and only while an entry exists: a
 * new leader starts from the entries' `duplicate` flags and `updatedAt`.
 */

export interface DampeningOptions {
  /** Moves allowed in the window; one more marks the MAC duplicate. Default 5. */
  maxMoves: number;
  /** Window in ms. Default 180 000. */
  windowMs: number;
}

export const DEFAULT_DAMPENING: DampeningOptions = { maxMoves: 5, windowMs: 180_000 };

export interface MacMobility {
  /** Times (ms) of the moves still inside the window, oldest first. */
  moveTimes: number[];
  /** The last winning claim seen, to count each new claim once. */
  lastClaim: { host: string; seq: number } | null;
  /** Time of the last new claim while frozen (for the release timer). */
  lastAttemptAt: number;
  /** When the leader removed the entry for lack of claims (history kept a window); null while it exists. */
  orphanedAt: number | null;
  /** The entry was duplicate when last seen. */
  duplicate: boolean;
}

/** Keyed by `${vni}/${mac}`. Treated as immutable by computeTables (it returns a new one). */
export type MobilityState = ReadonlyMap<string, MacMobility>;

export function pruneMoves(moveTimes: readonly number[], now: number, windowMs: number): number[] {
  return moveTimes.filter((t) => now - t < windowMs);
}
