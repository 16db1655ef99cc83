/**
 * The audit log of the controller API (docs/security.md): one record per
 * write request, allowed or refused. The controller logs each and keeps the
 * newest ones in etcd under `audit/`; `GET /v1/audit` and `dvs audit-log`
 * show them.
 */
import type { ApiErrorCode, ApiRole } from './controller-api.js';

/** How the caller proved who it is. */
export type AuthMethod = 'token' | 'certificate' | 'insecure-local' | 'none';

export interface AuditIdentity {
  /** Token name or certificate subject; `anonymous` when none was given or it was not accepted. */
  name: string;
  role: ApiRole | null;
  method: AuthMethod;
  /** Peer address of the connection (`127.0.0.1`, `unix` for a unix socket). */
  address: string;
}

export type AuditOutcome = 'allowed' | 'refused' | 'failed';

export interface AuditRecord {
  /** Sortable id: `<ms since epoch, 13 digits>-<replica>-<counter>`; also the etcd key's last part. */
  id: string;
  at: number;
  /** The controller replica that answered. */
  replica: string;
  who: AuditIdentity;
  /** `POST /v1/networks`, with the route pattern it matched. */
  request: { method: string; path: string; route: string };
  outcome: AuditOutcome;
  status: number;
  code: ApiErrorCode | null;
  message: string | null;
  /** The entry the request addressed, before and after (null: absent, or not read). */
  before: unknown;
  after: unknown;
}

/** `GET /v1/audit`. */
export interface AuditAnswer {
  records: AuditRecord[];
  /** How many records etcd keeps (older ones are deleted). */
  capacity: number;
}
