/**
 * The agent records the tables currently leave out (tables/admission.ts),
 * kept between leader rounds so each is counted and logged once: a record
 * counts again only when it changes (a new mod revision) or its reason does.
 * The leader's incremental tables set and clear them record by record.
 * Feeds `dvs_controller_records_ignored_total` and `dvs status`.
 */
import { IGNORE_REASONS, type IgnoredRecord, type IgnoreReason } from '../tables/admission.js';

export type IgnoredCounts = Record<'report' | 'port', Record<IgnoreReason, number>>;

function zeroCounts(): Record<IgnoreReason, number> {
  return Object.fromEntries(IGNORE_REASONS.map((r) => [r, 0])) as Record<IgnoreReason, number>;
}

/** One ignored record (a port: one per binding). */
export function ignoredId(r: IgnoredRecord): string {
  return `${r.kind}|${r.key}|${r.vni}`;
}

export class IgnoredRecords {
  private current = new Map<string, IgnoredRecord>();
  /** Ignored records counted so far, by kind and reason. */
  readonly totals: IgnoredCounts = { report: zeroCounts(), port: zeroCounts() };

  /** Sets (or with null clears) one ignored record; true when it is newly ignored and was counted. */
  set(id: string, r: IgnoredRecord | null): boolean {
    if (r === null) {
      this.current.delete(id);
      return false;
    }
    const before = this.current.get(id);
    this.current.set(id, r);
    if (before !== undefined && before.modRevision === r.modRevision && before.reason === r.reason) return false;
    this.totals[r.kind][r.reason]++;
    return true;
  }

  get size(): number {
    return this.current.size;
  }

  list(): IgnoredRecord[] {
    return [...this.current.values()];
  }

  clear(): void {
    this.current = new Map();
  }
}

/** Ignored records grouped for people: one line per host, kind and reason (stale leftovers left out). */
export interface IgnoredGroup {
  host: string;
  kind: 'report' | 'port';
  reason: IgnoreReason;
  count: number;
  example: IgnoredRecord;
}

export function groupIgnored(list: readonly IgnoredRecord[]): IgnoredGroup[] {
  const groups = new Map<string, IgnoredGroup>();
  for (const r of list) {
    if (r.reason === 'stale-lease') continue;
    const id = `${r.host}|${r.kind}|${r.reason}`;
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { host: r.host, kind: r.kind, reason: r.reason, count: 1, example: r });
    else g.count++;
  }
  return [...groups.values()].sort(
    (a, b) => a.host.localeCompare(b.host) || a.kind.localeCompare(b.kind) || a.reason.localeCompare(b.reason),
  );
}

const REASON_TEXT: Record<IgnoreReason, string> = {
  'stale-lease': "under the host's previous lease",
  'foreign-lease': "not under the host's live lease",
  'not-allowed': 'in a network the host may not join',
  'seq-jump': "seq more than one above the table's",
  'old-layout': 'in the layout-1 key format (upgrade that agent)',
};

/** `h2: 3 MAC reports ignored (seq-jump: seq more than one above the table's), e.g. 02:… in VNI 100: seq …`. */
export function describeIgnored(g: IgnoredGroup): string {
  const what =
    g.kind === 'report'
      ? g.count === 1
        ? 'MAC report'
        : 'MAC reports'
      : g.count === 1
        ? 'port binding'
        : 'port bindings';
  const e = g.example;
  const example =
    e.mac !== undefined ? `${e.mac} in VNI ${e.vni}` : `VNI ${e.vni} (${e.key.slice(e.key.lastIndexOf('/') + 1)})`;
  return `${g.host}: ${g.count} ${what} ignored (${g.reason}: ${REASON_TEXT[g.reason]}), e.g. ${example}: ${e.detail}`;
}
