/**
 * Publishes `digests/<host>` (@dvs/wire table-digest.ts): for every VNI this
 * host follows, the digests of the tables its data path holds — kept by the
 * data path as it applies changes (datapath/table-digest.ts), so reading them
 * costs nothing per entry — and, when the data path's FDB digest differs from
 * that of the entries this agent handed it, the MACs where they differ
 * (found by comparing the two, only then). Checked every `intervalMs` while
 * no table change is waiting to be applied; written only when it changed.
 */
import { encodeTableDigest, MAX_DIGEST_DIFF, type DigestDiff, type TableDigestRecord, type VniDigest } from '@dvs/wire';
import type { ControlSurface } from '../datapath/control-surface.js';
import type { TableState } from './table-state.js';

export interface DigestPublisherOptions {
  host: string;
  surface: ControlSurface;
  tables: TableState;
  /** VNIs followed now. */
  followed: () => readonly number[];
  /** True while table changes wait to be applied (digests would be mid-way). */
  busy: () => boolean;
  publish: (record: Buffer) => void;
  clock: () => number;
  intervalMs?: number;
}

export const DIGEST_INTERVAL_MS = 1000;

export class DigestPublisher {
  private timer: NodeJS.Timeout | null = null;
  private last = '';

  constructor(private readonly options: DigestPublisherOptions) {}

  start(): void {
    if (this.timer !== null || this.options.surface.tableDigest === undefined) return;
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? DIGEST_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Publishes the digests now if they changed; false when the data path keeps none or tables are mid-apply. */
  check(): boolean {
    const { surface, tables } = this.options;
    if (surface.tableDigest === undefined || this.options.busy()) return false;
    const vnis: VniDigest[] = [];
    const diff: DigestDiff[] = [];
    for (const vni of this.options.followed()) {
      const digest = surface.tableDigest(vni);
      if (digest === null) continue;
      vnis.push(digest);
      if (digest.fdb.hash === tables.handedFdbDigest(vni).hash || diff.length >= MAX_DIGEST_DIFF) continue;
      const has = surface.controlEntries?.(vni) ?? new Map();
      const handed = tables.handedEntries(vni);
      for (const mac of new Set([...has.keys(), ...handed.keys()])) {
        const a = has.get(mac) ?? null;
        const b = handed.get(mac) ?? null;
        if (a !== null && b !== null && a.address === b.address && a.port === b.port) continue;
        diff.push({ vni, mac, has: a, table: b });
        if (diff.length >= MAX_DIGEST_DIFF) break;
      }
    }
    const text = JSON.stringify([vnis, diff]);
    if (text === this.last) return true;
    this.last = text;
    const record: TableDigestRecord = { host: this.options.host, vnis, diff, updatedAt: this.options.clock() };
    this.options.publish(encodeTableDigest(record));
    return true;
  }
}
