/**
 * The agent's tunnel health monitor: one TunnelSession per peer, probes sent
 * through a ProbeTransport, replies to the peers' probes, state changes
 * reported as `tunnel:state` events.
 *
 * Per tick (the runner calls tick() every checkMs, a fraction of the interval):
 *   1. forget removed peers that lingered long enough
 *   2. evaluate every session's detection timer (→ down)
 *   3. send a probe to every monitored peer whose interval elapsed
 * Received frames: requests are answered at once (echoing seq and timestamp);
 * replies feed the session (→ RTT, up). Both carry the peer's session id
 * (→ peer restarted).
 */
import type { HealthClock } from './health-clock.js';
import { systemHealthClock } from './health-clock.js';
import type { HealthOptions } from './health-options.js';
import { resolveHealthOptions } from './health-options.js';
import { decodeProbeFrame, probeFrame } from './probe-codec.js';
import type { ProbeSource, ProbeTransport, TunnelPeer } from './probe-transport.js';
import { tunnelKey } from './probe-transport.js';
import type { TunnelSnapshot, TunnelStateChange } from './tunnel-session.js';
import { TunnelSession } from './tunnel-session.js';

export interface TunnelMonitorEvents {
  'tunnel:state': TunnelStateChange;
}

export interface TunnelMonitorOptions extends Partial<HealthOptions> {
  transport: ProbeTransport;
  clock?: HealthClock;
  /** This agent's session id (u32, nonzero); random when omitted. */
  session?: number;
}

type Listener<K extends keyof TunnelMonitorEvents> = (event: TunnelMonitorEvents[K]) => void;

function randomSession(): number {
  const value = Math.floor(Math.random() * 0xffff_ffff) >>> 0;
  return value === 0 ? 1 : value;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

export class TunnelMonitor {
  readonly options: HealthOptions;
  readonly session: number;
  private readonly transport: ProbeTransport;
  private readonly clock: HealthClock;
  private readonly sessions = new Map<string, TunnelSession>();
  private readonly nextSendAt = new Map<string, number>();
  private readonly listeners = new Set<Listener<'tunnel:state'>>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: TunnelMonitorOptions) {
    this.options = resolveHealthOptions(options);
    this.transport = options.transport;
    this.clock = options.clock ?? systemHealthClock;
    this.session = options.session ?? randomSession();
    this.transport.onReceive((source, frame) => this.receive(source, frame));
  }

  on(event: 'tunnel:state', listener: Listener<'tunnel:state'>): () => void {
    void event;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces the set of peers (as the control plane knows them). New peers
   * start in init (or unmonitored when external); missing ones go down with
   * `peer removed` and linger for removedLingerMs.
   */
  setPeers(peers: readonly TunnelPeer[]): void {
    const now = this.clock.monotonicMs();
    const wall = this.clock.wallMs();
    const wanted = new Map(peers.map((p) => [tunnelKey(p), p]));
    for (const [key, session] of this.sessions) {
      if (!wanted.has(key)) this.emit(session.remove(now, wall));
    }
    for (const [key, peer] of wanted) {
      const existing = this.sessions.get(key);
      if (existing) {
        this.emit(existing.update(peer, now, wall));
        continue;
      }
      this.sessions.set(key, new TunnelSession(peer, this.options, now, wall));
      this.nextSendAt.set(key, now);
    }
  }

  /** One step of the monitor; see the module comment. Safe to call at any rate. */
  tick(): void {
    const now = this.clock.monotonicMs();
    const wall = this.clock.wallMs();
    for (const [key, session] of this.sessions) {
      if (session.forgettable(now)) {
        this.sessions.delete(key);
        this.nextSendAt.delete(key);
        continue;
      }
      this.emit(session.evaluate(now, wall));
      const due = this.nextSendAt.get(key) ?? now;
      if (now < due) continue;
      this.nextSendAt.set(key, Math.max(due + this.options.intervalMs, now));
      const probe = session.nextProbe(now);
      if (probe === null) continue;
      const frame = probeFrame({ kind: 'request', session: this.session, echoSession: 0, ...probe });
      this.send(session.target, frame, session);
    }
  }

  /** Handles one probe frame diverted by the data path. Unknown or malformed frames are ignored. */
  receive(source: ProbeSource, frame: Uint8Array): void {
    const probe = decodeProbeFrame(frame, 0, frame.length);
    if (probe === null || probe.session === this.session) return;
    const now = this.clock.monotonicMs();
    const wall = this.clock.wallMs();
    const session = this.findSession(source);
    if (session) this.emit(session.peerSessionSeen(probe.session, now, wall));
    if (probe.kind === 'request') {
      // Answer even a peer we do not know yet: it may learn of us before we learn of it.
      const peer: TunnelPeer = session?.target ?? {
        vtep: { address: source.address, port: source.port },
        encap: source.encap,
        vni: source.vni,
      };
      const reply = probeFrame({
        kind: 'reply',
        session: this.session,
        seq: probe.seq,
        echoSession: probe.session,
        timestamp: probe.timestamp,
      });
      this.send(peer, reply, null);
      return;
    }
    if (session && probe.echoSession === this.session) {
      this.emit(session.replyReceived(probe.seq, now, wall));
    }
  }

  snapshots(): TunnelSnapshot[] {
    const now = this.clock.monotonicMs();
    return [...this.sessions.values()].map((s) => s.snapshot(now)).sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Starts the timer: ticks every interval/5 (at least 10 ms) so detection is late by at most that much. */
  start(): void {
    if (this.timer !== null) return;
    const checkMs = Math.max(10, Math.floor(this.options.intervalMs / 5));
    this.timer = setInterval(() => this.tick(), checkMs);
    this.timer.unref?.();
    this.tick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.transport.onReceive(null);
  }

  /** Matches a received probe to a peer by outer source address and encap (source ports vary for entropy). */
  private findSession(source: ProbeSource): TunnelSession | undefined {
    const exact = this.sessions.get(tunnelKey({ vtep: source, encap: source.encap }));
    if (exact && !exact.removed) return exact;
    for (const session of this.sessions.values()) {
      const peer = session.target;
      if (!session.removed && peer.vtep.address === source.address && peer.encap === source.encap) return session;
    }
    return undefined;
  }

  private send(peer: TunnelPeer, frame: Uint8Array, session: TunnelSession | null): void {
    const failed = (error: unknown) => session?.sendFailed(errorCode(error), this.clock.monotonicMs());
    try {
      const pending = this.transport.send(peer, frame);
      if (pending && typeof (pending as Promise<void>).catch === 'function') (pending as Promise<void>).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  private emit(change: TunnelStateChange | null): void {
    if (change === null) return;
    for (const listener of this.listeners) listener(change);
  }
}
