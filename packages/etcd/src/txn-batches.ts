/**
 * How dvs cuts many writes into etcd transactions: at most TXN_MAX_OPS
 * operations and about TXN_MAX_BYTES of keys and values each. etcd refuses a
 * transaction of more than 128 operations (--max-txn-ops) or a request above
 * 1.5 MiB (--max-request-bytes) by default; these bounds stay well under both,
 * with room for a transaction's guard comparisons.
 */
export const TXN_MAX_OPS = 100;
export const TXN_MAX_BYTES = 512 * 1024;

/** Splits `items` in order into batches of at most `maxOps` items and about `maxBytes` (`size` of each). */
export function txnBatches<T>(
  items: Iterable<T>,
  size: (item: T) => number,
  limits: { maxOps?: number; maxBytes?: number } = {},
): T[][] {
  const maxOps = limits.maxOps ?? TXN_MAX_OPS;
  const maxBytes = limits.maxBytes ?? TXN_MAX_BYTES;
  const out: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (batch.length > 0 && (batch.length >= maxOps || bytes + n > maxBytes)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += n;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
