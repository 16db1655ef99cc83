/**
 * Learn conflicts: tunnel claims on a MAC that the control plane places
 * elsewhere (fdb.ts "MAC locations follow the control plane"). This keeps
 * the clock that reverts provisional moves nobody confirmed in time, and the
 * record of recent conflicts that the agent publishes in its status record
 * (`dvs status` shows each as a `learn-conflict` problem).
 */
import { formatMac } from '@dvs/wire';
import type { DataPathEvents } from './control-surface.js';
import type { FdbEntry } from './fdb.js';
import type { NetworkState } from './network.js';
import type { Peer } from './peer.js';
import { Port } from './port.js';

/** At most this many MACs are remembered as in conflict (the oldest is forgotten first). */
export const MAX_CONFLICTS_KEPT = 256;

/** One MAC in conflict, as `conflicts/show`, metrics and the status record show it. */
export interface LearnConflictView {
  vni: number;
  mac: string;
  /** The VTEP whose frames claimed the MAC ("address:port"). */
  claimedBy: string;
  /** Where the control plane has it: a VTEP "address:port", or a local port. */
  home: { kind: 'vtep' | 'port'; name: string };
  /** reverted: moved provisionally and not confirmed in time; held: a local port saw it recently. */
  outcome: 'reverted' | 'held';
  count: number;
  firstAt: number;
  lastAt: number;
}

type Emit = <K extends keyof DataPathEvents>(name: K, payload: DataPathEvents[K]) => void;

export class ProvisionalMoves {
  private readonly conflicts = new Map<string, LearnConflictView>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly networks: ReadonlyMap<number, NetworkState>,
    private readonly now: () => number,
    /** Queues (or emits) a data path event. */
    private readonly emit: Emit,
  ) {}

  /** Checks deadlines every `everyMs` (a quarter of the confirmation bound, at least 20 ms). */
  start(confirmMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.expire(), Math.max(20, Math.floor(confirmMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reverts every provisional move past its deadline; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const net of this.networks.values()) {
      for (const { entry, claimant } of net.fdb.expireProvisional(now)) {
        n++;
        this.emit('mac:move', { vni: net.vni, mac: entry.mac, from: claimant.id, to: locationName(entry) });
        this.record(net, entry, claimant, 'reverted', now);
      }
    }
    return n;
  }

  /**
   * A claim that did not stand otherwise: held off by a busy local port, or
   * reverted because the MAC's home or the controller contradicted it.
   */
  conflict(net: NetworkState, entry: FdbEntry, claimant: Peer, outcome: 'held' | 'reverted'): void {
    this.record(net, entry, claimant, outcome, this.now());
  }

  /** Conflicts seen within `windowMs` of now, newest first. */
  recent(windowMs: number): LearnConflictView[] {
    const since = this.now() - windowMs;
    return [...this.conflicts.values()]
      .filter((c) => c.lastAt >= since)
      .sort((a, b) => b.lastAt - a.lastAt)
      .map((c) => ({ ...c, home: { ...c.home } }));
  }

  private record(net: NetworkState, entry: FdbEntry, claimant: Peer, outcome: 'reverted' | 'held', now: number): void {
    const mac = formatMac(entry.mac);
    const key = `${net.vni}/${mac}`;
    const home = { kind: entry.local ? ('port' as const) : ('vtep' as const), name: locationName(entry) };
    const old = this.conflicts.get(key);
    this.conflicts.delete(key);
    this.conflicts.set(key, {
      vni: net.vni,
      mac,
      claimedBy: claimant.id,
      home,
      outcome,
      count: (old?.count ?? 0) + 1,
      firstAt: old?.firstAt ?? now,
      lastAt: now,
    });
    if (this.conflicts.size > MAX_CONFLICTS_KEPT) this.conflicts.delete(this.conflicts.keys().next().value as string);
    this.emit('mac:conflict', {
      vni: net.vni,
      mac: entry.mac,
      claimedBy: claimant.id,
      home: home.name,
      homeKind: home.kind,
      outcome,
    });
  }
}

function locationName(entry: FdbEntry): string {
  return entry.location instanceof Port ? entry.location.name : entry.location.id;
}
