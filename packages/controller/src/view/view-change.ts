/**
 * What changed in the ClusterView, record by record, for the leader's
 * incremental tables (tables/incremental-tables.ts): each change names the
 * record it touched, so only the MACs and VNIs that depend on it are
 * computed again. `stale-*` changes are the view's memory of a host that lost
 * its lease (view/stale-hosts.ts) taking or dropping a record.
 */
export type ViewChange =
  | { kind: 'report'; key: string; host: string; vni: number; mac: string }
  | { kind: 'port'; key: string; host: string }
  | { kind: 'host'; host: string }
  | { kind: 'network'; vni: number }
  | { kind: 'fdb'; vni: number; mac: string }
  | { kind: 'flood'; vni: number }
  | { kind: 'legacy'; key: string };

export type ViewChangeListener = (change: ViewChange) => void;
