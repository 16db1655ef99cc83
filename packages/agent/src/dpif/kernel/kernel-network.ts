import type { FdbChange, FdbEntry } from '@dvs/netdev';
import { dvsLinkName } from '@dvs/netdev';
import type { NetworkSpec, Vtep } from '../../datapath/control-surface.js';

/** A remote MAC as the controller placed it. */
export interface RemoteMac {
  vtep: Vtep;
  seq: number;
  static: boolean;
}

/** A MAC the bridge learned (or was given) on one of our ports. */
export interface LocalMac {
  port: string;
  /** The mobility seq to report: one above the control entry it displaced (RFC 7432 §15). */
  seq: number;
}

export function vtepId(v: Vtep): string {
  return v.address.includes(':') ? `[${v.address}]:${v.port}` : `${v.address}:${v.port}`;
}

/**
 * What the kernel provider keeps for one VNI: the tables the control plane
 * gave (remote MACs, flood list, peers), the local MACs the bridge holds,
 * and the names of its two kernel devices. Pure: the FdbChange lists below
 * are what the provider hands to rtnetlink.
 */
export class KernelNetwork {
  readonly bridge: string;
  readonly vxlan: string;
  readonly remote = new Map<number, RemoteMac>();
  readonly local = new Map<number, LocalMac>();
  flood: Vtep[] = [];
  peers: Vtep[] = [];
  bridgeIndex = 0;
  vxlanIndex = 0;
  /** Why the devices could not be made (null: they are there). */
  problem: string | null = null;

  constructor(public spec: NetworkSpec) {
    this.bridge = dvsLinkName('bridge', spec.vni);
    this.vxlan = dvsLinkName('vxlan', spec.vni);
  }

  get vni(): number {
    return this.spec.vni;
  }

  /** The static vxlan entry of a remote MAC (`bridge fdb replace MAC dev dvsvxN dst A port P static`). */
  remoteEntry(mac: number, vtep: Vtep): FdbChange {
    return { op: 'replace', device: this.vxlan, mac, dst: vtep.address, dstPort: vtep.port, state: 'static' };
  }

  /** The flood list as all-zeros entries: what to append and what to delete to go from `before` to `after`. */
  floodChanges(before: readonly Vtep[], after: readonly Vtep[]): FdbChange[] {
    const had = new Set(before.map(vtepId));
    const has = new Set(after.map(vtepId));
    const changes: FdbChange[] = [];
    for (const v of before)
      if (!has.has(vtepId(v))) changes.push({ op: 'del', device: this.vxlan, mac: 0, dst: v.address, dstPort: v.port });
    for (const v of after)
      if (!had.has(vtepId(v)))
        changes.push({ op: 'append', device: this.vxlan, mac: 0, dst: v.address, dstPort: v.port, state: 'permanent' });
    return changes;
  }

  /** Every entry the vxlan device should hold (after an adoption: replace is idempotent). */
  wantedEntries(): FdbChange[] {
    return [
      ...[...this.remote].map(([mac, r]) => this.remoteEntry(mac, r.vtep)),
      ...this.flood.map((v): FdbChange => ({
        op: 'append',
        device: this.vxlan,
        mac: 0,
        dst: v.address,
        dstPort: v.port,
        state: 'permanent',
      })),
    ];
  }

  /**
   * Entries the vxlan device holds that no table names (a restarted agent's
   * leftovers), as deletions. `devicePort`: the device's UDP port, which an
   * entry without a port of its own uses.
   */
  staleEntries(held: readonly FdbEntry[], devicePort: number): FdbChange[] {
    const flood = new Set(this.flood.map(vtepId));
    const out: FdbChange[] = [];
    for (const e of held) {
      // The device's own addresses (permanent, no destination) are the kernel's.
      if (e.table !== 'self' || e.dst === '') continue;
      const port = e.dstPort === 0 ? devicePort : e.dstPort;
      if (e.mac === 0) {
        if (!flood.has(vtepId({ address: e.dst, port })))
          out.push({ op: 'del', device: this.vxlan, mac: 0, dst: e.dst, dstPort: port });
        continue;
      }
      const want = this.remote.get(e.mac);
      if (want === undefined || want.vtep.address !== e.dst || want.vtep.port !== port)
        out.push({ op: 'del', device: this.vxlan, mac: e.mac });
    }
    return out;
  }
}
