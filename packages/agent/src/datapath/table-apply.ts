import { isValidMac, isValidVni } from '@dvs/wire';
import type { DataPathEvents, NetworkSpec, TableChange, Vtep } from './control-surface.js';
import type { FdbCounters } from './counters.js';
import { ENCAPS } from './encap.js';
import type { FdbEntry, FdbOptions } from './fdb.js';
import { NetworkState } from './network.js';
import type { Peer, PeerRegistry } from './peer.js';
import type { Port } from './port.js';

const MIN_MTU = 68;
const MAX_MTU = 9000;

/** What applying table changes needs from the data path. */
export interface TableContext {
  networks: Map<number, NetworkState>;
  peers: PeerRegistry;
  fdbCounters: FdbCounters;
  fdbOptions: FdbOptions;
  now(): number;
  /** A network appeared: rebuild the VNI → local ports membership. */
  membersChanged(): void;
  /** A local FDB entry went away (mac:gone). */
  localGone(vni: number, entry: FdbEntry): void;
  emit<K extends keyof DataPathEvents>(event: K, payload: DataPathEvents[K]): void;
}

/**
 * The control surface's TableChange kinds applied to the data path's tables.
 * Peers are reference counted in the registry (one reference per peers list,
 * flood list and control FDB entry that names them), and so are the VTEPs a
 * network accepts as outer sources (NetworkState.addSource/removeSource): an
 * FDB change costs O(1), a list O(its length), whatever the VNI's size.
 * Entries learned at a VTEP that is no longer known are dropped.
 */
export class TableApplier {
  constructor(private readonly ctx: TableContext) {}

  /** Applies one change; false when it is invalid (nothing changed then). */
  apply(change: TableChange): boolean {
    const networks = this.ctx.networks;
    switch (change.kind) {
      case 'network:set': {
        const spec = change.network;
        if (!isValidNetworkSpec(spec)) return false;
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
        for (const entry of net.fdb.values()) if (entry.local) this.ctx.localGone(net.vni, entry);
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
        if (replacedLocal !== null) {
          const from = (replacedLocal.location as Port).name;
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
        return true;
      }
      case 'flood:set':
      case 'peers:set': {
        const net = networks.get(change.vni);
        if (net === undefined || !Array.isArray(change.vteps)) return false;
        const peers = this.acquireDistinct(change.vteps);
        if (peers === null) return false;
        const old = change.kind === 'flood:set' ? net.floodList.replace(peers) : net.peers;
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

function isValidNetworkSpec(spec: NetworkSpec): boolean {
  return (
    typeof spec === 'object' &&
    spec !== null &&
    isValidVni(spec.vni) &&
    (ENCAPS as readonly string[]).includes(spec.encap) &&
    Number.isInteger(spec.mtu) &&
    spec.mtu >= MIN_MTU &&
    spec.mtu <= MAX_MTU
  );
}
