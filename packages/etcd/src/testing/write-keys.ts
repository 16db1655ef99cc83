import type { Etcd3 } from 'etcd3';
import { txnBatches } from '../txn-batches.js';

/**
 * Writes (value) or deletes (null) many keys fast, for seeding a test or a
 * benchmark: bounded transactions (txnBatches), `parallel` of them in flight.
 * Each transaction is unconditional (its guard compares a key that never exists).
 */
export async function writeKeys(
  client: Etcd3,
  kvs: Iterable<readonly [string, Buffer | null]>,
  options: { parallel?: number } = {},
): Promise<void> {
  const parallel = options.parallel ?? 8;
  const batches = txnBatches(kvs, ([k, v]) => k.length + (v?.length ?? 0));
  for (let i = 0; i < batches.length; i += parallel) {
    await Promise.all(
      batches.slice(i, i + parallel).map((batch) =>
        client
          .if('\0dvs-never-written', 'Create', '==', 0)
          .then(...batch.map(([k, v]) => (v === null ? client.delete().key(k) : client.put(k).value(v))))
          .commit(),
      ),
    );
  }
}
