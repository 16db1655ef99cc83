import type { RejectedChange, TableChange } from '../datapath/control-surface.js';
import { validateTableChange } from '../datapath/table-apply.js';

/**
 * The changes of a batch that cannot be applied, by the data path's one rule
 * (validateTableChange) plus a provider's own (`extra`: a reason or null),
 * against the networks `vnis` (updated as the batch sets and deletes them).
 */
export function checkBatch(
  changes: readonly TableChange[],
  vnis: Set<number>,
  extra: (change: TableChange) => string | null = () => null,
): RejectedChange[] {
  const rejected: RejectedChange[] = [];
  changes.forEach((change, index) => {
    const reason = validateTableChange(change, vnis) ?? extra(change);
    if (reason !== null) rejected.push({ index, kind: String((change as { kind?: unknown })?.kind), reason });
  });
  return rejected;
}
