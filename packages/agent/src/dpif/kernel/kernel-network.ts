import type { FdbChange, FdbEntry } from '@dvs/netdev';
import { dvsLinkName } from '@dvs/netdev';
import type { FrameDevice } from '@dvs/netdev';
import type { NetworkSpec, Vtep } from '../../datapath/control-surface.js';
import type { PortSpec } from '../../datapath/port.js';
import { KernelBindings } from './kernel-bindings.js';

/** A port of the kernel provider: a device enslaved to its network's bridge. */
export interface KernelPort {
  spec: PortSpec & { mode: 'access' };
  device: FrameDevice;
  ifindex: number;
  /** In its network's bridge (false while the network has not arrived yet). */
  enslaved: boolean;
  /** lockFirstMac: the first MAC the bridge learned on it. */
  lockedMac?: number;
}

/** A remote MAC as the controller placed it. */
export interface RemoteMac {
  vtep: Vtep;
  seq: number;
  static: boolean;
  /** The IPs the controller publishes with it (its remote IP bindings). */
  ips: readonly string[];
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
  /** IP bindings: the bridge device's neighbour entries (ARP/ND suppression). */
  readonly bindings: KernelBindings;

  constructor(public spec: NetworkSpec) {
    this.bridge = dvsLinkName('bridge', spec.vni);
    this.vxlan = dvsLinkName('vxlan', spec.vni);
    this.bindings = new KernelBindings(this.bridge);
  }

  get vni(): number {
    return this.spec.vni;
  }

  /**
   * A remote MAC's two entries: the vxlan device's own (`bridge fdb replace
   * MAC dev dvsvxN dst A port P static`: where to send it) and the bridge's
   * (`… dev dvsvxN master extern_learn`: the MAC is behind the vxlan port).
   * The bridge's entry keeps unicast to the MAC off the local ports, and it
   * is what neighbour suppression needs (the bridge answers only for a MAC
   * its FDB places on a suppressing port). Being extern_learn, it never ages
   * and a frame from the MAC on a local port takes it over (a migration),
   * which the FDB monitor reports as a local MAC.
   */
  remoteEntries(mac: number, vtep: Vtep): FdbChange[] {
    return [
      { op: 'replace', device: this.vxlan, mac, dst: vtep.address, dstPort: vtep.port, state: 'static' },
      { op: 'replace', device: this.vxlan, mac, table: 'master', state: 'dynamic', extLearned: true },
    ];
  }

  /** Deletes only the vxlan device's own entry of a MAC (its bridge entry is on a local port now). */
  tunnelEntryDeletion(mac: number): FdbChange {
    return { op: 'del', device: this.vxlan, mac };
  }

  /** Deletes a remote MAC's two entries. */
  remoteDeletions(mac: number): FdbChange[] {
    return [this.tunnelEntryDeletion(mac), { op: 'del', device: this.vxlan, mac, table: 'master' }];
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
      ...[...this.remote].flatMap(([mac, r]) => this.remoteEntries(mac, r.vtep)),
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
      // The bridge's entries on the vxlan port that dvs put there (extern_learn) and no table names.
      if (e.table === 'master' && e.ifindex === this.vxlanIndex) {
        if (e.extLearned && !this.remote.has(e.mac))
          out.push({ op: 'del', device: this.vxlan, mac: e.mac, table: 'master' });
        continue;
      }
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
