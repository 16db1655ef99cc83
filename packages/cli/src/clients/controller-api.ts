/**
 * The controller HTTP API as the CLI reads it (docs/api.md). Records reuse
 * the wire types where the API returns them unchanged.
 */
import type { FdbEntryRecord, NetworkRecord, TunnelStatusRecord, VtepRecord } from '@dvs/wire';

export const DEFAULT_CONTROLLER_URL = 'http://127.0.0.1:7400';

export type ProblemKind = 'no-leader' | 'etcd-down' | 'host-down' | 'tunnel-down' | 'duplicate-mac' | string;

export interface StatusProblem {
  kind: ProblemKind;
  message: string;
  host?: string;
  peer?: string;
  vni?: number;
  mac?: string;
}

export interface ClusterStatus {
  controller: { id: string; leader: boolean; leaderId: string | null; etcd: string };
  hosts: { up: number; down: number };
  networks: number;
  fdb: { entries: number; duplicates: number };
  tunnels: { up: number; down: number; init: number; unmonitored: number };
  problems: StatusProblem[];
}

export interface HostPortView {
  port: string;
  mode: string;
  bindings: { vni: number; vlan: number | null }[];
  state: string;
  macCount: number;
}

export interface HostView {
  host: string;
  state: 'up' | 'down' | string;
  since: number;
  vtep: VtepRecord;
  encaps: string[];
  agentVersion: string;
  startedAt: number;
  ports: HostPortView[];
  macs: number;
}

export type NetworkView = NetworkRecord;

export interface FdbEntryView extends FdbEntryRecord {
  ageMs: number;
}

export interface FloodListView {
  vni: number;
  members: { address: string; port: number; host: string | null }[];
  updatedAt: number;
}

export type TunnelStatusView = TunnelStatusRecord;

/** Body of a network create; `vni` and `name` required, the rest defaulted by the controller. */
export interface NetworkCreate {
  vni: number;
  name: string;
  encap?: string;
  mtu?: number;
  floodMode?: string;
  arpSuppression?: boolean;
  externalVteps?: { address: string; port?: number; description?: string }[];
  description?: string;
}

export type NetworkUpdate = Partial<Omit<NetworkCreate, 'vni'>>;

export interface StaticFdbCreate {
  vni: number;
  mac: string;
  address: string;
  port?: number;
  ips?: string[];
}

/** Answer of `POST /v1/fdb/{vni}/{mac}/clear`: `entry` is always null (the leader re-decides the location). */
export interface ClearedFdbAnswer {
  entry: null;
  cleared: { vni: number; mac: string };
}

export interface FdbQuery {
  vni?: number;
  host?: string;
  mac?: string;
  duplicate?: boolean;
}
