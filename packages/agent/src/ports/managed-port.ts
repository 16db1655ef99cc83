import type { PortQos } from '../datapath/token-bucket.js';
import {
  portKindOf,
  type AgentPortView,
  type DataPathPortView as PortView,
  type PortKind,
  type PortOrigin,
  type PortPlug,
  type PortState,
} from '@dvs/wire';

export type { AgentPortView, PortOrigin };
import type { FrameDevice } from '@dvs/netdev';
import type { PortMapping } from '../config/port-mapping-text.js';
import { newTrafficCounters } from '../datapath/counters.js';
import type { PortSpec } from '../datapath/port.js';
import type { PortSecurity } from '@dvs/wire';

/** What a port is asked to be: a device name, its VNI mapping, how it gets its device. */
export interface PortRequest {
  name: string;
  mapping: PortMapping;
  plug: PortPlug;
  /** A TAP the agent creates outlives the agent (plug create only). */
  persistent: boolean;
  /** Allowed MAC/IP pairs, MAC limit, storm control (datapath/port-security.ts); absent: none. */
  security?: PortSecurity;
  /** Policers from the config; ports/qos changes them at run time (ManagedPort.qos). */
  qos?: PortQos;
}

/**
 * One port the agent keeps, whether or not its device is there now. While
 * the device is there the port is in the data path (`device` set); while it
 * is gone the port stays here, its counters kept for when it comes back.
 */
export class ManagedPort {
  device: FrameDevice | null = null;
  ifindex: number | null = null;
  deviceKind = 'unknown';
  state: PortState = 'gone';
  since: number;
  detail: string | null = null;
  /** The data path could not read the device any more (port:gone). */
  failed = false;
  /** ports/del ran: nothing more is done for this port. */
  removed = false;
  readonly counters = newTrafficCounters();
  deviceGone = 0;
  reattached = 0;
  lastMtu: number | null = null;
  overlayMtu: number | null = null;
  mtuWarning: string | null = null;
  /** The last refusal logged while trying to bring the device back (logged once, not on every event). */
  lastOpenError: string | null = null;
  /** Open and close work on this port, one at a time. */
  work: Promise<void> = Promise.resolve();

  constructor(
    readonly request: PortRequest,
    readonly origin: PortOrigin,
    now: number,
  ) {
    this.since = now;
    this.qos = { ingress: request.qos?.ingress ?? null, egress: request.qos?.egress ?? null };
  }

  /**
   * The port's policers, put on the data-path port each time its device is
   * (re)attached: the setting outlives a device that goes and comes back.
   */
  qos: PortQos;

  get name(): string {
    return this.request.name;
  }

  get kind(): PortKind {
    return portKindOf(this.request.plug);
  }

  /** The VNIs the port carries. */
  vnis(): number[] {
    const m = this.request.mapping;
    return m.mode === 'access' ? [m.vni] : [...m.vlans.values()];
  }

  spec(): PortSpec {
    const m = this.request.mapping;
    const security = this.request.security !== undefined ? { security: this.request.security } : {};
    return m.mode === 'access'
      ? { name: this.name, mode: 'access', vni: m.vni, ...security }
      : { name: this.name, mode: 'trunk', vlans: m.vlans, ...security };
  }

  setState(state: PortState, now: number, detail: string | null): boolean {
    this.detail = detail;
    if (state === this.state) return false;
    this.state = state;
    this.since = now;
    return true;
  }

  /** The agent's view; `live` is the data path's view while the device is there. */
  view(live: PortView | undefined): AgentPortView {
    const m = this.request.mapping;
    const base: PortView = live ?? {
      name: this.name,
      mode: m.mode,
      vni: m.mode === 'access' ? m.vni : null,
      vlans: m.mode === 'trunk' ? Object.fromEntries([...m.vlans].map(([vlan, vni]) => [String(vlan), vni])) : {},
      device: this.name,
      mtu: this.lastMtu ?? 0,
      counters: { ...this.counters },
    };
    return {
      ...base,
      kind: this.kind,
      plug: this.request.plug,
      persistent: this.request.persistent,
      origin: this.origin,
      deviceKind: this.deviceKind,
      ifindex: this.ifindex,
      state: this.state,
      since: this.since,
      detail: this.detail,
      overlayMtu: this.overlayMtu,
      mtuWarning: this.mtuWarning,
      deviceGone: this.deviceGone,
      reattached: this.reattached,
    };
  }
}
