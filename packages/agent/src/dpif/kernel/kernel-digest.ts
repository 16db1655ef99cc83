/**
 * The table digests of a kernel-provider network (`dvs audit`), computed from
 * what the kernel holds, not from what the provider asked for: an entry
 * deleted behind the agent's back (`bridge fdb del`) shows as a divergence.
 * The members are those of @dvs/wire table-digest.ts:
 *  - FDB: the vxlan device's unicast entries with a destination;
 *  - flood list: its all-zeros entries, one per VTEP;
 *  - accepted sources: the kernel's vxlan device accepts any source, so
 *    these are what the userspace pipeline would accept from the same
 *    tables: the peers, the flood members and every VTEP an entry names.
 * Read from one dump of the device per call (the digest publisher asks about
 * once a second per VNI), nothing per frame.
 */
import type { FdbEntry } from '@dvs/netdev';
import { digestOf, fdbDigestMember, formatMac, vtepDigestMember, type VniDigest, type VtepRecord } from '@dvs/wire';
import type { Vtep } from '../../datapath/control-surface.js';

export interface KernelTables {
  /** MAC text → VTEP: the control entries the vxlan device holds. */
  control: Map<string, VtepRecord>;
  flood: VtepRecord[];
}

/** The vxlan device's control entries and flood list, from its dump (`devicePort`: an entry without a port uses it). */
export function kernelTables(held: readonly FdbEntry[], vxlanIndex: number, devicePort: number): KernelTables {
  const control = new Map<string, VtepRecord>();
  const flood: VtepRecord[] = [];
  for (const e of held) {
    if (e.table !== 'self' || e.ifindex !== vxlanIndex || e.dst === '') continue;
    const vtep = { address: e.dst, port: e.dstPort === 0 ? devicePort : e.dstPort };
    if (e.mac === 0) flood.push(vtep);
    else control.set(formatMac(e.mac), vtep);
  }
  return { control, flood };
}

export function kernelDigest(vni: number, tables: KernelTables, peers: readonly Vtep[]): VniDigest {
  const flood = new Set(tables.flood.map(vtepDigestMember));
  const sources = new Set([...flood, ...peers.map(vtepDigestMember)]);
  const fdb: string[] = [];
  for (const [mac, vtep] of tables.control) {
    fdb.push(fdbDigestMember(mac, vtep));
    sources.add(vtepDigestMember(vtep));
  }
  return { vni, fdb: digestOf(fdb), flood: digestOf(flood), sources: digestOf(sources) };
}
