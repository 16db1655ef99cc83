import {
  MAX_OVERLAY_MTU,
  MIN_OVERLAY_MTU,
  isEncap,
  isIpAddress,
  isValidMac,
  isValidOverlayMtu,
  isValidVni,
  parseIpAddress,
  type ParsedIpAddress,
} from '@dvs/wire';
import type { DataPathEvents, TableChange, Vtep } from './control-surface.js';
import type { FdbCounters } from './counters.js';
import { macHigh, macLow, type FdbEntry, type FdbOptions } from './fdb.js';
import { NetworkState } from './network.js';
import { isValidVtep, type Peer, type PeerRegistry } from './peer.js';

/** What applying table changes needs from the data path. */
export interface TableContext {
  networks: Map<number, NetworkState>;
  peers: PeerRegistry;
  fdbCounters: FdbCounters;
  fdbOptions: FdbOptions;
  now(): number;
  /** A network appeared: rebuild the VNI → local ports membership. */
  membersChanged(): void;
  /** The controller placed a provisionally moved MAC elsewhere than `claimant` claimed (a learn conflict). */
  contradicted(net: NetworkState, entry: FdbEntry, claimant: Peer): void;
  /** An FDB entry went away: mac:gone when it stood for a local port. */
  localGone(vni: number, entry: FdbEntry): void;
  emit<K extends keyof DataPathEvents>(event: K, payload: DataPathEvents[K]): void;
}

/**
 * The control surface's TableChange kinds applied to the data path's tables,
 * in two steps so that a batch applies whole or not at all: validate() every
 * change of the batch (against the networks the batch itself creates and
 * deletes before it), then apply() each. apply() of a validated change
 * cannot fail.
 *
 * Peers are reference counted in the registry (one reference per peers list,
 * flood list and control FDB entry that names them), and so are the VTEPs a
 * network accepts as outer sources (NetworkState.addSource/removeSource): an
 * FDB change costs O(1), a list O(its length), whatever the VNI's size.
 * Entries learned at a VTEP that is no longer known are dropped.
 */
export class TableApplier {
  constructor(private readonly ctx: TableContext) {}

  /**
   * Why `change` cannot be applied after the changes before it in its batch,
   * or null when it can. `vnis`: the networks that exist at this point of the
   * batch; a valid network:set/network:del updates it.
   */
  validate(change: TableChange, vnis: Set<number>): string | null {
    return validateTableChange(change, vnis);
  }

  /** Applies one change that validate() accepted; false only for a change it would have refused. */
  apply(change: TableChange): boolean {
    const networks = this.ctx.networks;
    switch (change.kind) {
      case 'network:set': {
        const spec = change.network;
        const existing = networks.get(spec.vni);
        if (existing !== undefined) existing.spec = { ...spec };
        else {
          networks.set(spec.vni, new NetworkState({ ...spec }, this.ctx.fdbCounters, this.ctx.fdbOptions));
          this.ctx.membersChanged();
        }
        return true;
      }
      case 'network:del': {
        const net = networks.get(change.vni);
        if (net === undefined) return false;
        networks.delete(change.vni);
        for (const p of net.peers) this.ctx.peers.release(p);
        for (const p of net.floodList.replace([])) this.ctx.peers.release(p);
        for (const p of net.controlMacs.values()) this.ctx.peers.release(p);
        for (const entry of net.fdb.values()) this.ctx.localGone(net.vni, entry);
        return true;
      }
      case 'fdb:set': {
        const net = networks.get(change.vni);
        if (net === undefined || !isValidMac(change.mac) || !Number.isInteger(change.seq) || change.seq < 0)
          return false;
        const peer = this.ctx.peers.acquire(change.vtep);
        if (peer === null) return false;
        const replacedLocal = net.fdb.setControl(change.mac, peer, change.seq, change.static === true, this.ctx.now());
        if (net.fdb.lookup(change.mac)?.location !== peer) {
          // A newer local entry kept its place.
          this.ctx.peers.release(peer);
          return true;
        }
        this.setControlMac(net, change.mac, peer);
        const ips = (change.ips ?? []).map(parseIpAddress).filter((ip): ip is ParsedIpAddress => ip !== null);
        net.bindings.setRemote(macHigh(change.mac), macLow(change.mac), ips, this.ctx.now());
        const claimant = net.fdb.lastContradicted;
        const placed = net.fdb.lookup(change.mac);
        if (claimant !== null && placed !== undefined) this.ctx.contradicted(net, placed, claimant);
        if (replacedLocal !== null) {
          const from = replacedLocal.name;
          this.ctx.emit('mac:move', { vni: net.vni, mac: change.mac, from, to: peer.id });
          this.ctx.emit('mac:gone', { vni: net.vni, mac: change.mac, port: from });
        }
        return true;
      }
      case 'fdb:del': {
        const net = networks.get(change.vni);
        if (net === undefined || !isValidMac(change.mac)) return false;
        const entry = net.fdb.lookup(change.mac);
        if (entry !== undefined && !entry.local) net.fdb.delete(change.mac);
        this.setControlMac(net, change.mac, null);
        // The binding moves with the MAC: one that is local here now keeps its IPs.
        net.bindings.dropRemote(macHigh(change.mac), macLow(change.mac), entry?.local === true);
        return true;
      }
      case 'flood:set':
      case 'peers:set': {
        const net = networks.get(change.vni);
        if (net === undefined || !Array.isArray(change.vteps)) return false;
        const peers = this.acquireDistinct(change.vteps);
        if (peers === null) return false;
        const old = change.kind === 'flood:set' ? net.floodList.replace(peers) : net.peers;
        if (change.kind === 'flood:set') net.digest.floodReplaced(old, peers);
        if (change.kind === 'peers:set') net.peers = peers;
        for (const p of peers) net.addSource(p);
        for (const p of old) this.releaseSource(net, p);
        return true;
      }
      default:
        return false;
    }
  }

  /** Acquires one registry reference per distinct VTEP; null (nothing acquired) when one is invalid. */
  private acquireDistinct(vteps: readonly Vtep[]): Peer[] | null {
    const seen = new Set<string>();
    const out: Peer[] = [];
    for (const v of vteps) {
      const id = `${v.address}:${v.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const peer = this.ctx.peers.acquire(v);
      if (peer === null) {
        for (const p of out) this.ctx.peers.release(p);
        return null;
      }
      out.push(peer);
    }
    return out;
  }

  /** The control entry of `mac` now names `peer` (whose registry reference it takes over), or none. */
  private setControlMac(net: NetworkState, mac: number, peer: Peer | null): void {
    const old = net.controlMacs.get(mac);
    net.digest.controlChanged(mac, old, peer);
    if (peer === null) net.controlMacs.delete(mac);
    else {
      net.controlMacs.set(mac, peer);
      net.addSource(peer);
    }
    if (old !== undefined) this.releaseSource(net, old);
  }

  /** Drops one reference on `peer`, in the registry and as a source; its learned entries go with its last one. */
  private releaseSource(net: NetworkState, peer: Peer): void {
    if (net.removeSource(peer)) net.fdb.removeLocation(peer);
    this.ctx.peers.release(peer);
  }
}

/**
 * Why `change` cannot be applied after the changes before it in its batch,
 * or null when it can. `vnis`: the networks that exist at this point of the
 * batch; a valid network:set/network:del updates it. The one rule for every
 * datapath provider (the kernel provider validates with it too).
 */
export function validateTableChange(change: TableChange, vnis: Set<number>): string | null {
  if (typeof change !== 'object' || change === null) return 'not a table change';
  const needsNetwork = (vni: number): string | null =>
    vnis.has(vni) ? null : `no network with VNI ${String(vni)} (set it first)`;
  switch (change.kind) {
    case 'network:set': {
      const spec = change.network;
      if (typeof spec !== 'object' || spec === null || !isValidVni(spec.vni)) return 'VNI must be 1..16777215';
      if (!isEncap(spec.encap)) return `unknown encap ${JSON.stringify(spec.encap)}`;
      if (!isValidOverlayMtu(spec.mtu)) return `MTU must be ${MIN_OVERLAY_MTU}..${MAX_OVERLAY_MTU}`;
      vnis.add(spec.vni);
      return null;
    }
    case 'network:del': {
      const missing = needsNetwork(change.vni);
      if (missing === null) vnis.delete(change.vni);
      return missing;
    }
    case 'fdb:set':
      if (!isValidMac(change.mac)) return 'invalid MAC';
      if (!Number.isInteger(change.seq) || change.seq < 0) return 'seq must be an integer >= 0';
      if (!isValidVtep(change.vtep)) return 'invalid VTEP (IP address and UDP port 1..65535)';
      if (change.ips !== undefined && (!Array.isArray(change.ips) || !change.ips.every(isIpAddress)))
        return 'ips must be a list of IP addresses';
      return needsNetwork(change.vni);
    case 'fdb:del':
      if (!isValidMac(change.mac)) return 'invalid MAC';
      return needsNetwork(change.vni);
    case 'flood:set':
    case 'peers:set':
      if (!Array.isArray(change.vteps)) return 'vteps must be a list';
      if (!change.vteps.every(isValidVtep)) return 'invalid VTEP (IP address and UDP port 1..65535)';
      return needsNetwork(change.vni);
    default:
      return `unknown change kind ${JSON.stringify((change as { kind?: unknown }).kind)}`;
  }
}
