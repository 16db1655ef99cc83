/**
 * The API's audit log: one AuditRecord per write request (any method but
 * GET), allowed or refused. Each goes to the structured log and, as JSON,
 * to etcd under `audit/<id>`, where the newest `capacity` records are kept
 * (older ones are deleted after each write).
 *
 * Refused requests come from anyone who can reach the port, so their etcd
 * records go through a token bucket (REFUSED_PER_SECOND, burst
 * REFUSED_BURST): past it they are logged and counted, not stored, and an
 * unauthenticated flood cannot turn into an etcd write flood. Allowed writes
 * come from authenticated callers and are always stored.
 */
import type { Etcd3 } from 'etcd3';
import type { AuditRecord, KeyLayout } from '@dvs/wire';
import type { Logger } from '../log.js';

export const DEFAULT_AUDIT_CAPACITY = 1000;
export const REFUSED_PER_SECOND = 5;
export const REFUSED_BURST = 50;

export interface AuditCounters {
  stored: number;
  /** Refused requests logged but not stored (rate limit). */
  notStored: number;
  /** etcd writes of the audit history that failed. */
  failed: number;
}

export class AuditLog {
  readonly counters: AuditCounters = { stored: 0, notStored: 0, failed: 0 };
  private seq = 0;
  private tokens = REFUSED_BURST;
  private refilledAt: number;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly replica: string,
    private readonly log: Logger,
    readonly capacity: number = DEFAULT_AUDIT_CAPACITY,
    private readonly clock: () => number = Date.now,
  ) {
    this.refilledAt = clock();
  }

  /** A fresh, sortable record id. */
  nextId(at: number): string {
    this.seq = (this.seq + 1) % 1_000_000;
    return `${String(at).padStart(13, '0')}-${this.replica}-${String(this.seq).padStart(6, '0')}`;
  }

  private takeRefusedToken(): boolean {
    const now = this.clock();
    this.tokens = Math.min(REFUSED_BURST, this.tokens + ((now - this.refilledAt) / 1000) * REFUSED_PER_SECOND);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Logs the record and stores it in etcd; never throws (a failed store is logged and counted). */
  async record(entry: Omit<AuditRecord, 'id' | 'replica' | 'at'>): Promise<AuditRecord> {
    const at = this.clock();
    const record: AuditRecord = { id: this.nextId(at), at, replica: this.replica, ...entry };
    const store = record.outcome !== 'refused' || this.takeRefusedToken();
    const fields = {
      audit: record.id,
      who: record.who.name,
      role: record.who.role,
      via: record.who.method,
      from: record.who.address,
      method: record.request.method,
      path: record.request.path,
      outcome: record.outcome,
      status: record.status,
      code: record.code,
      before: record.before,
      after: record.after,
      ...(store ? {} : { stored: false }),
    };
    if (record.outcome === 'allowed') this.log.info('api write', fields);
    else this.log.warn(`api write ${record.outcome}`, fields);
    if (!store) {
      this.counters.notStored++;
      return record;
    }
    try {
      await this.client.put(this.keys.audit(record.id)).value(JSON.stringify(record));
      this.counters.stored++;
      await this.trim();
    } catch (err) {
      this.counters.failed++;
      this.log.error('audit record not stored in etcd', { audit: record.id, error: (err as Error).message });
    }
    return record;
  }

  /** Deletes the oldest records beyond capacity. */
  private async trim(): Promise<void> {
    const prefix = this.keys.auditPrefix;
    const count = await this.client.getAll().prefix(prefix).count();
    if (count <= this.capacity) return;
    const oldest = await this.client
      .getAll()
      .prefix(prefix)
      .sort('Key', 'Ascend')
      .limit(count - this.capacity)
      .keys();
    for (const key of oldest) await this.client.delete().key(key);
  }

  /** The newest `limit` records, oldest first. */
  async list(limit: number = this.capacity): Promise<AuditRecord[]> {
    const values = await this.client
      .getAll()
      .prefix(this.keys.auditPrefix)
      .sort('Key', 'Descend')
      .limit(limit)
      .strings();
    const out: AuditRecord[] = [];
    for (const text of Object.values(values)) {
      try {
        out.push(JSON.parse(text) as AuditRecord);
      } catch {
        // not ours: skipped
      }
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }
}
