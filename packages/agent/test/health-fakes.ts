// Test fakes for tunnel health: a clock the test moves, and an in-memory
// underlay joining monitors by VTEP address, with links that can be cut.
import type { HealthClock } from '../src/health/health-clock.js';
import type { ProbeSource, ProbeTransport, TunnelPeer } from '../src/health/probe-transport.js';

export class FakeClock implements HealthClock {
  now = 1_000;
  wall = 1_700_000_000_000;
  monotonicMs(): number {
    return this.now;
  }
  wallMs(): number {
    return this.wall;
  }
  advance(ms: number): void {
    this.now += ms;
    this.wall += ms;
  }
}

export class FakeUnderlay {
  private readonly endpoints = new Map<string, FakeProbeTransport>();
  /** Addresses whose link is down: packets from or to them vanish. */
  readonly cut = new Set<string>();
  /** Addresses that get ENETUNREACH when they send. */
  readonly noRoute = new Set<string>();
  /** Delay applied to deliveries, ms of fake time; 0 = synchronous. */
  pending: { at: number; deliver: () => void }[] = [];
  latencyMs = 0;

  constructor(readonly clock: FakeClock) {}

  attach(address: string): FakeProbeTransport {
    const t = new FakeProbeTransport(this, address);
    this.endpoints.set(address, t);
    return t;
  }

  deliver(from: string, peer: TunnelPeer, frame: Uint8Array): void {
    if (this.noRoute.has(from)) {
      throw Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' });
    }
    if (this.cut.has(from) || this.cut.has(peer.vtep.address)) return;
    const target = this.endpoints.get(peer.vtep.address);
    if (!target) return;
    const copy = frame.slice();
    const source: ProbeSource = { address: from, port: 40000, encap: peer.encap, vni: peer.vni };
    const go = () => target.handler?.(source, copy);
    if (this.latencyMs === 0) go();
    else this.pending.push({ at: this.clock.now + this.latencyMs, deliver: go });
  }

  /** Delivers every delayed packet due by now. */
  flush(): void {
    const due = this.pending.filter((p) => p.at <= this.clock.now);
    this.pending = this.pending.filter((p) => p.at > this.clock.now);
    for (const p of due) p.deliver();
  }
}

export class FakeProbeTransport implements ProbeTransport {
  handler: ((source: ProbeSource, frame: Uint8Array) => void) | null = null;
  readonly sent: { peer: TunnelPeer; frame: Uint8Array }[] = [];
  constructor(
    private readonly underlay: FakeUnderlay,
    readonly address: string,
  ) {}
  send(peer: TunnelPeer, frame: Uint8Array): void {
    this.sent.push({ peer, frame: frame.slice() });
    this.underlay.deliver(this.address, peer, frame);
  }
  onReceive(handler: ((source: ProbeSource, frame: Uint8Array) => void) | null): void {
    this.handler = handler;
  }
}

export function peerAt(address: string, host: string, extra: Partial<TunnelPeer> = {}): TunnelPeer {
  return { vtep: { address, port: 4789 }, encap: 'vxlan', vni: 100, host, ...extra };
}
