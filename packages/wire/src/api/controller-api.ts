/**
 * The dvs-controller HTTP API contract (docs/api.md): what each endpoint
 * takes and answers, the error body, the roles. The controller serves these
 * shapes, and the CLI and the lab read them: this file is the one copy.
 * Records the API returns unchanged are the wire records themselves.
 */
import type {
  FdbEntryRecord,
  FloodListRecord,
  FloodMode,
  HostRecord,
  NetworkRecord,
  PortRecord,
  TunnelStatusRecord,
} from '../records/index.js';
import type { Encap } from '../frames/encap.js';
import type { NetworkFlowExport } from '../records/network.js';
import type { DatapathChoice } from '../datapath/datapath-choice.js';

export const DEFAULT_CONTROLLER_PORT = 7400;
export const DEFAULT_CONTROLLER_URL = `http://127.0.0.1:${DEFAULT_CONTROLLER_PORT}`;

/** Largest request body the controller reads (bytes); over it: 413 DVS_BODY_TOO_LARGE. */
export const MAX_API_BODY_BYTES = 1 << 20;

/**
 * Who may do what: `viewer` reads, `operator` also writes networks, external
 * VTEPs and static FDB entries, `admin` also reads the audit log.
 * Each role includes the ones before it.
 */
export type ApiRole = 'viewer' | 'operator' | 'admin';
export const API_ROLES: readonly ApiRole[] = ['viewer', 'operator', 'admin'];

/** The stable error codes of the API and the HTTP status each comes with. */
export const API_ERROR_STATUS = {
  DVS_INVALID_JSON: 400,
  DVS_FIELD_INVALID: 400,
  DVS_FIELD_MISSING: 400,
  DVS_FIELD_UNKNOWN: 400,
  DVS_VNI_OUT_OF_RANGE: 400,
  DVS_ENCAP_UNKNOWN: 400,
  DVS_MAC_INVALID: 400,
  DVS_COLLECTOR_UNRESOLVED: 400,
  DVS_UNAUTHENTICATED: 401,
  DVS_FORBIDDEN: 403,
  DVS_NOT_FOUND: 404,
  DVS_METHOD_NOT_ALLOWED: 405,
  DVS_NETWORK_EXISTS: 409,
  DVS_NETWORK_NAME_TAKEN: 409,
  DVS_EXTERNAL_VTEP_EXISTS: 409,
  DVS_FDB_NOT_STATIC: 409,
  DVS_CONFLICT: 409,
  DVS_BODY_TOO_LARGE: 413,
  DVS_UNSUPPORTED_MEDIA_TYPE: 415,
  DVS_MISDIRECTED: 421,
  DVS_ETCD_UNAVAILABLE: 503,
  DVS_INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** Every non-2xx answer has this body. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; field: string | null };
}

export interface HealthView {
  status: 'ok' | 'unavailable';
  id: string;
  leader: boolean;
  etcd: 'up' | 'down';
  revision: number;
}

/**
 * `record-ignored`: records of one host the controller leaves out of the
 * tables, grouped by kind and reason (docs/security.md#etcd-identities):
 * `foreign-lease`, `not-allowed`, `seq-jump`, `old-layout`.
 * `record-invalid`: keys whose value does not decode, one problem per record
 * kind with their count. `host-stale`: a host that lost its etcd lease whose
 * entries are kept, stale, until the stale policy drops them.
 * `learn-conflict`: a host saw tunnel frames claim a MAC the controller
 * places elsewhere, and undid or held off the claim (docs/security.md).
 * `ip-conflict`: a MAC (`mac`, reported by `host`) claims an IP (`ip`) that
 * another MAC of the VNI holds (`holder`); the first one keeps it.
 */
export type ProblemKind =
  | 'no-leader'
  | 'etcd-down'
  | 'host-down'
  | 'host-stale'
  | 'tunnel-down'
  | 'duplicate-mac'
  | 'record-ignored'
  | 'record-invalid'
  | 'tables-divergent'
  | 'learn-conflict'
  | 'ip-conflict';

export interface Problem {
  kind: ProblemKind;
  message: string;
  host?: string;
  peer?: string;
  vni?: number;
  mac?: string;
  /** record-ignored: why, and how many records of that host share it; record-invalid: the record kind and how many. */
  reason?: string;
  count?: number;
  /** record-invalid: the record kind (`report`, `fdb`, …). */
  recordKind?: string;
  /** ip-conflict: the IP and the MAC that holds it. */
  ip?: string;
  holder?: string;
}

/**
 * One disagreement between what an agent's data path holds and what the
 * controller intends (`GET /v1/divergences`, `dvs audit`): in its FDB (per
 * MAC when the agent named it, else as digests), flood list or accepted sources.
 */
export interface DivergenceView {
  host: string;
  vni: number;
  table: 'fdb' | 'flood' | 'sources';
  /** The MAC, or null when only the digests differ. */
  mac: string | null;
  /** What the agent has: a VTEP, `nothing`, or a digest with its count. */
  agentHas: string;
  /** What the controller intends, in the same terms. */
  intends: string;
  /** When it was first seen (ms since the epoch). */
  since?: number;
}

/** `GET /v1/divergences`. */
export interface DivergencesView {
  /** Hosts that publish digests (agents that follow etcd). */
  checkedHosts: number;
  divergentHosts: string[];
  divergences: DivergenceView[];
  /** A disagreement counts once it lasted this long (ms). */
  settleMs: number;
}

/** `POST /v1/divergences/repair` `{ host?, vni? }` → the resyncs requested. */
export interface RepairView {
  requested: { host: string; vnis: number[] }[];
}

/** `GET /v1/status`. */
export interface StatusView {
  controller: { id: string; leader: boolean; leaderId: string | null; etcd: 'up' | 'down' };
  /** `stale`: lease lost, entries kept (docs/control-plane.md#lease-loss-stale-not-ejected). */
  hosts: { up: number; down: number; stale: number };
  networks: number;
  fdb: { entries: number; duplicates: number; stale: number };
  /** Keys that do not decode, by record kind (each also a `record-invalid` problem). */
  invalidRecords: Record<string, number>;
  /** Agents whose data path disagrees with the controller's tables (each host also in a `tables-divergent` problem). */
  divergentHosts?: number;
  tunnels: { up: number; down: number; init: number; unmonitored: number };
  problems: Problem[];
}

export type HostPortView = Omit<PortRecord, 'host'>;

/**
 * `GET /v1/hosts`: a host record with its liveness, ports and MAC count.
 * `stale`: its lease expired, its entries are kept until the stale policy drops them (`staleUntil`).
 */
export interface HostView extends HostRecord {
  state: 'up' | 'down' | 'stale';
  /** stale: when its entries go at the latest (the grace period's end), ms since the epoch. */
  staleUntil?: number;
  since: number;
  ports: HostPortView[];
  macs: number;
}

export type NetworkView = NetworkRecord;

/** `GET /v1/fdb`: an authoritative entry and how long ago it last changed. */
export interface FdbEntryView extends FdbEntryRecord {
  ageMs: number;
}

export type FloodListView = FloodListRecord;
export type TunnelStatusView = TunnelStatusRecord;

/** `GET /v1/fdb` filters. */
export interface FdbQuery {
  vni?: number;
  host?: string;
  mac?: string;
  duplicate?: boolean;
}

export interface ExternalVtepInput {
  address: string;
  port?: number;
  description?: string;
}

/** `POST /v1/networks`: `vni` and `name` required, the rest defaulted by the controller. */
export interface NetworkCreate {
  vni: number;
  name: string;
  encap?: Encap;
  mtu?: number;
  floodMode?: FloodMode;
  arpSuppression?: boolean;
  externalVteps?: ExternalVtepInput[];
  /** Only these hosts (and hosts with an allowed label) may join; empty or absent: every host. */
  allowedHosts?: string[];
  /** `key=value` host labels that let a host join. */
  allowedLabels?: string[];
  /** Which datapath provider should serve it on each host (default auto); see datapath-choice.ts. */
  datapath?: DatapathChoice;
  /**
   * Whether sFlow and IPFIX export its traffic (default both; a field left
   * out keeps its value: true on create, the current one on update).
   */
  flowExport?: Partial<NetworkFlowExport>;
  description?: string;
}

/** `PATCH /v1/networks/{vni}`. */
export type NetworkUpdate = Partial<Omit<NetworkCreate, 'vni'>>;

/** `POST /v1/fdb`. */
export interface StaticFdbCreate {
  vni: number;
  mac: string;
  address: string;
  port?: number;
  ips?: string[];
}

/** `POST /v1/fdb/{vni}/{mac}/clear`: `entry` is always null (the leader re-decides the location). */
export interface ClearedFdbAnswer {
  entry: null;
  cleared: { vni: number; mac: string };
}

/** Answers, one per endpoint, by the key their body carries. */
export interface NetworkAnswer {
  network: NetworkView;
}
export interface NetworksAnswer {
  networks: NetworkView[];
}
export interface HostsAnswer {
  hosts: HostView[];
}
export interface HostAnswer {
  host: HostView;
}
export interface FdbAnswer {
  entries: FdbEntryView[];
}
export interface FdbEntryAnswer {
  entry: FdbEntryView;
}
export interface FloodAnswer {
  floodLists: FloodListView[];
}
export interface TunnelsAnswer {
  tunnels: TunnelStatusView[];
}
export interface DeletedNetworkAnswer {
  deleted: { vni: number };
}
export interface DeletedFdbAnswer {
  deleted: { vni: number; mac: string };
}
