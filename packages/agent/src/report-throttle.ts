/**
 * Rate limit on the MAC reports an agent writes to etcd: a VM spraying
 * random source MACs (each one a `mac:local`) must not become an etcd write
 * flood. Sits between the data path's MAC events and the etcd sync.
 *
 *  - `mac:local` events pass while a token bucket (`ratePerSecond`, bursts of
 *    `burst`) has tokens; past that they wait, one per MAC (vni, mac): a
 *    later event for the same MAC replaces the waiting one (coalesced).
 *  - `mac:gone` passes at once (a withdrawal undoes a report that already
 *    passed the limit; one never reported costs the etcd sync nothing) and
 *    cancels a waiting `mac:local` of the MAC.
 *
 * So the waiting set is bounded by the MACs in the FDB (whose size the port
 * MAC limits and the FDB limit bound), and puts to etcd by the rate.
 */
import type { DataPathEvents } from './datapath/control-surface.js';
import { TokenBucket } from './datapath/storm-control.js';

type LocalEvent = DataPathEvents['mac:local'];
type GoneEvent = DataPathEvents['mac:gone'];
type BoundEvent = DataPathEvents['ip:bound'];

/** The MAC events a throttle reads (the DataPath). */
export interface MacEvents {
  on(event: 'mac:local', listener: (e: LocalEvent) => void): unknown;
  on(event: 'mac:gone', listener: (e: GoneEvent) => void): unknown;
  on(event: 'ip:bound', listener: (e: BoundEvent) => void): unknown;
  off(event: 'mac:local', listener: (e: LocalEvent) => void): unknown;
  off(event: 'mac:gone', listener: (e: GoneEvent) => void): unknown;
  off(event: 'ip:bound', listener: (e: BoundEvent) => void): unknown;
}

export interface ReportThrottleOptions {
  ratePerSecond: number;
  burst: number;
  now?: () => number;
}

export interface ReportThrottleStatus {
  passed: number;
  /** mac:local events replaced by a later one of the same MAC, or cancelled by its mac:gone. */
  coalesced: number;
  /** Waiting now. */
  waiting: number;
}

export class ReportThrottle implements MacEvents {
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly waiting = new Map<string, LocalEvent>();
  private readonly localListeners = new Set<(e: LocalEvent) => void>();
  private readonly goneListeners = new Set<(e: GoneEvent) => void>();
  /** IP bindings are rare (ARP/ND of local ports, first per IP): passed at once, not rate-limited. */
  private readonly boundListeners = new Set<(e: BoundEvent) => void>();
  private readonly onBound = (e: BoundEvent): void => {
    for (const l of this.boundListeners) l(e);
  };
  private timer: NodeJS.Timeout | null = null;
  private passed = 0;
  private coalesced = 0;

  private readonly onLocal = (e: LocalEvent): void => {
    const key = `${e.vni}/${e.mac}`;
    if (this.waiting.size === 0 && this.bucket.take(this.now())) return this.pass(e);
    if (this.waiting.has(key)) this.coalesced++;
    this.waiting.set(key, e);
    this.schedule();
  };

  private readonly onGone = (e: GoneEvent): void => {
    const key = `${e.vni}/${e.mac}`;
    if (this.waiting.delete(key)) this.coalesced++;
    for (const l of this.goneListeners) l(e);
  };

  constructor(
    private readonly source: MacEvents,
    options: ReportThrottleOptions,
  ) {
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst);
    this.now = options.now ?? Date.now;
    source.on('mac:local', this.onLocal);
    source.on('mac:gone', this.onGone);
    source.on('ip:bound', this.onBound);
  }

  on(event: 'mac:local', listener: (e: LocalEvent) => void): this;
  on(event: 'mac:gone', listener: (e: GoneEvent) => void): this;
  on(event: 'ip:bound', listener: (e: BoundEvent) => void): this;
  on(
    event: 'mac:local' | 'mac:gone' | 'ip:bound',
    listener: ((e: LocalEvent) => void) | ((e: GoneEvent) => void) | ((e: BoundEvent) => void),
  ): this {
    if (event === 'mac:local') this.localListeners.add(listener as (e: LocalEvent) => void);
    else if (event === 'mac:gone') this.goneListeners.add(listener as (e: GoneEvent) => void);
    else this.boundListeners.add(listener as (e: BoundEvent) => void);
    return this;
  }

  off(event: 'mac:local', listener: (e: LocalEvent) => void): this;
  off(event: 'mac:gone', listener: (e: GoneEvent) => void): this;
  off(event: 'ip:bound', listener: (e: BoundEvent) => void): this;
  off(
    event: 'mac:local' | 'mac:gone' | 'ip:bound',
    listener: ((e: LocalEvent) => void) | ((e: GoneEvent) => void) | ((e: BoundEvent) => void),
  ): this {
    if (event === 'mac:local') this.localListeners.delete(listener as (e: LocalEvent) => void);
    else if (event === 'mac:gone') this.goneListeners.delete(listener as (e: GoneEvent) => void);
    else this.boundListeners.delete(listener as (e: BoundEvent) => void);
    return this;
  }

  status(): ReportThrottleStatus {
    return { passed: this.passed, coalesced: this.coalesced, waiting: this.waiting.size };
  }

  /** Prometheus lines for the agent's /metrics. */
  metricLines(host: string): string[] {
    const h = `host="${host}"`;
    return [
      '# HELP dvs_agent_reports_passed_total MAC reports handed to the etcd sync.',
      '# TYPE dvs_agent_reports_passed_total counter',
      `dvs_agent_reports_passed_total{${h}} ${this.passed}`,
      '# HELP dvs_agent_reports_coalesced_total MAC reports replaced or cancelled while waiting for the rate limit.',
      '# TYPE dvs_agent_reports_coalesced_total counter',
      `dvs_agent_reports_coalesced_total{${h}} ${this.coalesced}`,
      '# HELP dvs_agent_reports_waiting MAC reports waiting for the rate limit.',
      '# TYPE dvs_agent_reports_waiting gauge',
      `dvs_agent_reports_waiting{${h}} ${this.waiting.size}`,
    ];
  }

  /** Stops reading the source; what waits is dropped. */
  close(): void {
    this.source.off('mac:local', this.onLocal);
    this.source.off('mac:gone', this.onGone);
    this.source.off('ip:bound', this.onBound);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.clear();
  }

  private pass(e: LocalEvent): void {
    this.passed++;
    for (const l of this.localListeners) l(e);
  }

  private schedule(): void {
    if (this.timer !== null || this.waiting.size === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.drain();
      },
      Math.max(1, this.bucket.waitMs(this.now())),
    );
    this.timer.unref();
  }

  private drain(): void {
    for (const [key, e] of this.waiting) {
      if (!this.bucket.take(this.now())) break;
      this.waiting.delete(key);
      this.pass(e);
    }
    this.schedule();
  }
}
