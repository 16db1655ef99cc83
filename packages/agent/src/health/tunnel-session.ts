/**
 * One tunnel's health state machine, BFD-like and pure: it never sends, reads
 * a clock or sets a timer; the monitor calls it with the current monotonic and
 * wall times.
 *
 *   init ──(upAfter replies to consecutive probes)──► up
 *   init ──(no reply for the detection time since start)──► down
 *   up ──(no reply for the detection time)──► down   reason: probe timeout | no route | send failed
 *   down ──(upAfter replies to consecutive probes)──► up
 *   any ──(peer's session id changed)──► init          reason: peer restarted
 *   any ──(peer no longer configured)──► down          reason: peer removed (final)
 *   external peers: unmonitored, always (never probed, never down)
 *
 * Detection time = intervalMs × multiplier. Hysteresis: one lost probe does
 * not take a tunnel down, one reply does not bring it up.
 */
import type { HealthOptions } from './health-options.js';
import { ProbeWindow, type RttStats } from './probe-window.js';
import type { Encap } from '@dvs/wire';
import type { TunnelPeer } from './probe-transport.js';
import { tunnelKey } from './probe-transport.js';

export type TunnelState = 'init' | 'up' | 'down' | 'unmonitored';

/** Stable words for why a tunnel last changed state. */
export type TunnelChangeReason =
  | 'started'
  | 'external peer'
  | 'replies received'
  | 'probe timeout'
  | 'no route'
  | 'send failed'
  | 'peer restarted'
  | 'peer removed';

export interface TunnelSnapshot {
  key: string;
  peer: { address: string; port: number };
  host: string | null;
  encap: Encap;
  vni: number;
  state: TunnelState;
  /** Epoch ms of the last state change. */
  since: number;
  reason: TunnelChangeReason;
  /** Extra words on the reason (an errno code, a count), or null. */
  detail: string | null;
  rttMs: RttStats;
  /** Loss in percent over the window, null before any probe is final. */
  lossPercent: number | null;
  probes: { sent: number; replies: number; sendErrors: number };
  /** Peer's session id as last seen in its probes; null before any. */
  peerSession: number | null;
}

export interface TunnelStateChange {
  key: string;
  from: TunnelState;
  to: TunnelState;
  reason: TunnelChangeReason;
  detail: string | null;
}

const NO_ROUTE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN']);

export class TunnelSession {
  readonly key: string;
  private state: TunnelState;
  private since: number;
  private reason: TunnelChangeReason;
  private detail: string | null = null;
  private readonly window: ProbeWindow;
  private nextSeq = 1;
  private lastRepliedSeq = -1;
  private consecutive = 0;
  /** Monotonic time from which the detection timer runs: last reply, or entering init. */
  private aliveAt: number;
  private lastSendError: { code: string; at: number } | null = null;
  private peerSession: number | null = null;
  private sentCount = 0;
  private replyCount = 0;
  private sendErrorCount = 0;
  private removedAt: number | null = null;

  constructor(
    private peer: TunnelPeer,
    private readonly options: HealthOptions,
    now: number,
    wallNow: number,
  ) {
    this.key = tunnelKey(peer);
    this.window = new ProbeWindow(options.windowSize);
    this.state = peer.external ? 'unmonitored' : 'init';
    this.reason = peer.external ? 'external peer' : 'started';
    this.since = wallNow;
    this.aliveAt = now;
  }

  get current(): TunnelState {
    return this.state;
  }

  get target(): TunnelPeer {
    return this.peer;
  }

  get removed(): boolean {
    return this.removedAt !== null;
  }

  /** The detection time in ms. */
  get detectMs(): number {
    return this.options.intervalMs * this.options.multiplier;
  }

  /** Updates host/vni/external of the same key; a peer turning external or back restarts the session. */
  update(peer: TunnelPeer, now: number, wallNow: number): TunnelStateChange | null {
    const wasExternal = this.peer.external === true;
    this.peer = peer;
    if (this.removedAt !== null) {
      this.removedAt = null;
      return this.restart(now, wallNow, 'started', null);
    }
    if (wasExternal !== (peer.external === true)) {
      return this.restart(now, wallNow, peer.external ? 'external peer' : 'started', null);
    }
    return null;
  }

  /** Allocates the next probe to send, or null when this tunnel is not probed. */
  nextProbe(now: number): { seq: number; timestamp: number } | null {
    if (this.state === 'unmonitored' || this.removedAt !== null) return null;
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq >= 0xffff_ffff ? 1 : this.nextSeq + 1;
    this.window.sent(seq, now);
    this.sentCount++;
    return { seq, timestamp: now };
  }

  /** The transport refused a probe. Remembered as the cause if the tunnel then times out. */
  sendFailed(code: string, now: number): void {
    this.sendErrorCount++;
    this.lastSendError = { code, at: now };
  }

  /**
   * Any probe (request or reply) from the peer carries its session id. A new
   * one means the peer restarted: its tunnel state starts again from init.
   */
  peerSessionSeen(session: number, now: number, wallNow: number): TunnelStateChange | null {
    const previous = this.peerSession;
    this.peerSession = session;
    if (previous === null || previous === session || this.state === 'unmonitored' || this.removedAt !== null) {
      return null;
    }
    return this.restart(now, wallNow, 'peer restarted', null);
  }

  /** A reply to our probe `seq`. Returns the state change it caused, if any. */
  replyReceived(seq: number, now: number, wallNow: number): TunnelStateChange | null {
    if (this.state === 'unmonitored' || this.removedAt !== null) return null;
    if (this.window.answered(seq, now) === null) return null;
    this.replyCount++;
    this.aliveAt = Math.max(this.aliveAt, now);
    this.consecutive = seq === this.lastRepliedSeq + 1 ? this.consecutive + 1 : 1;
    this.lastRepliedSeq = seq;
    this.lastSendError = null;
    if (this.state !== 'up' && this.consecutive >= this.options.upAfter) {
      return this.transition('up', wallNow, 'replies received', `${this.consecutive} consecutive`);
    }
    return null;
  }

  /** Checks the detection timer. Call at least a few times per interval. */
  evaluate(now: number, wallNow: number): TunnelStateChange | null {
    if (this.state === 'unmonitored' || this.state === 'down' || this.removedAt !== null) return null;
    if (now - this.aliveAt < this.detectMs) return null;
    this.consecutive = 0;
    this.window.expirePending();
    const error = this.lastSendError;
    if (error !== null && now - error.at <= this.detectMs) {
      const reason = NO_ROUTE_CODES.has(error.code) ? 'no route' : 'send failed';
      return this.transition('down', wallNow, reason, error.code);
    }
    return this.transition('down', wallNow, 'probe timeout', `no reply for ${this.detectMs} ms`);
  }

  /** The peer left the configuration; it stays listed as down until `forgettable`. */
  remove(now: number, wallNow: number): TunnelStateChange | null {
    if (this.removedAt !== null) return null;
    this.removedAt = now;
    return this.transition('down', wallNow, 'peer removed', null, true);
  }

  /** True when a removed tunnel has lingered long enough to drop from the list. */
  forgettable(now: number): boolean {
    return this.removedAt !== null && now - this.removedAt >= this.options.removedLingerMs;
  }

  snapshot(now: number): TunnelSnapshot {
    return {
      key: this.key,
      peer: { address: this.peer.vtep.address, port: this.peer.vtep.port },
      host: this.peer.host ?? null,
      encap: this.peer.encap,
      vni: this.peer.vni,
      state: this.state,
      since: this.since,
      reason: this.reason,
      detail: this.detail,
      rttMs: this.window.rttStats(),
      lossPercent: this.window.lossPercent(now, this.detectMs),
      probes: { sent: this.sentCount, replies: this.replyCount, sendErrors: this.sendErrorCount },
      peerSession: this.peerSession,
    };
  }

  private restart(
    now: number,
    wallNow: number,
    reason: TunnelChangeReason,
    detail: string | null,
  ): TunnelStateChange | null {
    this.consecutive = 0;
    this.lastRepliedSeq = -1;
    this.aliveAt = now;
    this.lastSendError = null;
    this.window.clear();
    return this.transition(this.peer.external ? 'unmonitored' : 'init', wallNow, reason, detail, true);
  }

  private transition(
    to: TunnelState,
    wallNow: number,
    reason: TunnelChangeReason,
    detail: string | null,
    evenIfSame = false,
  ): TunnelStateChange | null {
    const from = this.state;
    if (from === to && !evenIfSame) return null;
    this.state = to;
    this.since = wallNow;
    this.reason = reason;
    this.detail = detail;
    return { key: this.key, from, to, reason, detail };
  }
}
