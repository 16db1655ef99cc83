/**
 * The digests of one VNI's tables as the data path holds them (@dvs/wire
 * table-digest.ts): its control FDB entries, its flood list and its accepted
 * outer sources. Kept up to date by the table application (table-apply.ts,
 * NetworkState) as changes are applied — O(1) per entry, nothing per frame —
 * and read by whoever publishes them (the agent's etcd sync, for `dvs audit`).
 */
import { fdbDigestMember, formatMac, SetDigest, type VniDigest, type VtepRecord } from '@dvs/wire';
import type { Peer } from './peer.js';

export class NetworkDigest {
  readonly fdb = new SetDigest();
  readonly flood = new SetDigest();
  readonly sources = new SetDigest();

  /** The control entry of `mac` changed from `old` to `next` (either may be none). */
  controlChanged(mac: number, old: Peer | undefined, next: Peer | null): void {
    if (old === next) return;
    const text = formatMac(mac);
    if (old !== undefined) this.fdb.remove(fdbDigestMember(text, old));
    if (next !== null) this.fdb.add(fdbDigestMember(text, next));
  }

  floodReplaced(old: readonly Peer[], next: readonly Peer[]): void {
    for (const p of old) this.flood.remove(p.id);
    for (const p of next) this.flood.add(p.id);
  }

  sourceAdded(peer: Peer): void {
    this.sources.add(peer.id);
  }

  sourceRemoved(peer: Peer): void {
    this.sources.remove(peer.id);
  }

  value(vni: number): VniDigest {
    return { vni, fdb: this.fdb.value, flood: this.flood.value, sources: this.sources.value };
  }
}

/** The control entries of a VNI as MAC text → VTEP (for naming the MACs behind a digest that disagrees). */
export function controlEntries(controlMacs: ReadonlyMap<number, Peer>): Map<string, VtepRecord> {
  const out = new Map<string, VtepRecord>();
  for (const [mac, peer] of controlMacs) out.set(formatMac(mac), { address: peer.address, port: peer.port });
  return out;
}
