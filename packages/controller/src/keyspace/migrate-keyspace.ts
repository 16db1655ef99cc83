/**
 * `dvs-controller --migrate-keyspace`: converts a layout-1 keyspace to
 * layout 2 once, then exits. Only MAC reports changed key
 * (`reports/<vni>/<mac>/<host>` → `reports/<host>/<vni>/<mac>`); every other
 * section is the same in both layouts.
 *
 *  1. Refuses while any controller campaigns (election keys exist): a running
 *     layout-1 controller would drop every FDB entry whose reports moved.
 *  2. Each layout-1 report is moved in one transaction, guarded by its mod
 *     revision: put under the new key with the same value and the same lease
 *     (so it still goes when its agent does), delete the old key. A report
 *     whose lease expired meanwhile is gone, not moved; one on no lease (no
 *     agent writes those) is deleted, since the controller would ignore it.
 *  3. Writes `<prefix>layout` = 2. Running it again finds nothing to do.
 *
 * Agents keep forwarding on their cached tables throughout; upgrade them
 * next (an old agent's new reports are ignored and named by `dvs status`).
 */
import { encodeKeyspaceLayout, KEY_LAYOUT_VERSION, type KeyLayout } from '@dvs/wire';
import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import { readRange, toFollowedKv } from '@dvs/etcd';
import { ControllerError } from '../controller-error.js';
import type { Logger } from '../log.js';
import { legacyReportKeys, readLayoutRecord } from './keyspace-layout.js';

export interface MigrationSummary {
  prefix: string;
  /** Layout before: 1, or 2 when there was nothing to do. */
  from: number;
  /** Reports moved to their layout-2 key. */
  moved: number;
  /** Reports that vanished meanwhile (their lease expired). */
  gone: number;
  /** Reports on no lease, deleted. */
  dropped: number;
}

async function moveReport(client: Etcd3, keys: KeyLayout, key: string): Promise<'moved' | 'gone' | 'dropped'> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const found = (await client.get(key).exec()).kvs[0];
    if (found === undefined) return 'gone';
    const kv = toFollowedKv(found);
    const legacy = keys.parseLegacyReport(key)!;
    const guard = client.if(key, 'Mod', '==', kv.modRevision);
    const deleteOld = client.delete().key(key);
    if (kv.lease === '0') {
      if ((await guard.then(deleteOld).commit()).succeeded) return 'dropped';
      continue;
    }
    const put = client
      .put(keys.report(legacy.host, legacy.vni, legacy.mac))
      .value(kv.value)
      .lease(kv.lease);
    try {
      if ((await guard.then(put, deleteOld).commit()).succeeded) return 'moved';
    } catch (err) {
      // The lease expired between the read and the write: the report went with it.
      if (!(err instanceof EtcdLeaseInvalidError)) throw err;
    }
  }
  throw new ControllerError(
    'DVS_KEYSPACE_LAYOUT',
    `${key} kept changing while it was being moved; run the migration again`,
  );
}

export async function migrateKeyspace(
  client: Etcd3,
  keys: KeyLayout,
  options: { writtenBy: string; log: Logger },
): Promise<MigrationSummary> {
  const summary: MigrationSummary = { prefix: keys.prefix, from: 1, moved: 0, gone: 0, dropped: 0 };
  const record = await readLayoutRecord(client, keys);
  if (record !== null && record.layout > KEY_LAYOUT_VERSION) {
    throw new ControllerError(
      'DVS_KEYSPACE_LAYOUT',
      `the keyspace ${keys.prefix} has key layout ${record.layout}, newer than this dvs-controller's ${KEY_LAYOUT_VERSION}`,
      'prefix',
    );
  }
  const campaigners = (await readRange(client, { prefix: keys.election() }, { keysOnly: true })).kvs.map(
    (kv) => kv.key,
  );
  if (campaigners.length > 0) {
    throw new ControllerError(
      'DVS_KEYSPACE_LAYOUT',
      `${campaigners.length} dvs-controller(s) are running on ${keys.prefix} (election keys ${campaigners.join(', ')}): stop every controller, then run the migration again`,
      'prefix',
    );
  }
  const legacy = await legacyReportKeys(client, keys);
  if (record?.layout === KEY_LAYOUT_VERSION && legacy.length === 0) return { ...summary, from: KEY_LAYOUT_VERSION };
  for (const key of legacy) {
    const outcome = await moveReport(client, keys, key);
    summary[outcome]++;
    options.log.debug('layout-1 report converted', { key, outcome });
  }
  await client
    .put(keys.layout)
    .value(encodeKeyspaceLayout({ layout: KEY_LAYOUT_VERSION, writtenBy: options.writtenBy, writtenAt: Date.now() }));
  options.log.info('keyspace converted to key layout 2', { ...summary });
  return summary;
}
