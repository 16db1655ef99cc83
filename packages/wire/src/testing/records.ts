/**
 * Records with every field at its plain default, for tests and benchmarks
 * that need a network or an FDB entry and care about a few fields only.
 */
import type { FdbEntryRecord } from '../records/fdb-entry.js';
import type { NetworkRecord } from '../records/network.js';

/** A VXLAN network, head-end flooding, MTU 1450, nothing else switched on. */
export function sampleNetwork(vni: number, fields: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    vni,
    name: `vni-${vni}`,
    encap: 'vxlan',
    mtu: 1450,
    floodMode: 'head-end',
    arpSuppression: false,
    externalVteps: [],
    description: '',
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

/** An entry reported by `host` at `vtep`, seq 0, never moved. */
export function sampleFdbEntry(
  fields: Pick<FdbEntryRecord, 'vni' | 'mac' | 'host' | 'vtep'> & Partial<FdbEntryRecord>,
): FdbEntryRecord {
  return {
    seq: 0,
    ips: [],
    origin: 'report',
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 0,
    ...fields,
  };
}
