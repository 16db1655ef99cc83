/**
 * Which key layout the keyspace under the prefix has, checked before the
 * controller serves (wire's keys.ts: layout 2 puts the host first in every
 * key an agent writes, so etcd RBAC can confine each host).
 *
 *  - `<prefix>layout` says 2: go on.
 *  - It says more: refuse (a newer dvs wrote this keyspace).
 *  - It is absent: a keyspace with layout-1 report keys
 *    (`reports/<vni>/<mac>/<host>`) is refused with the command that converts
 *    it (`dvs-controller --migrate-keyspace`, migrate-keyspace.ts); one
 *    without any is layout 2 already (a fresh keyspace, or one whose agents
 *    are all upgraded), and the record is written (create-if-absent, so
 *    replicas starting together agree).
 *
 * etcd unreachable: retried with backoff until it answers (logged once) or
 * the signal aborts; a credential etcd refuses fails at once.
 */
import {
  decodeKeyspaceLayout,
  encodeKeyspaceLayout,
  isRecordError,
  KEY_LAYOUT_VERSION,
  type KeyLayout,
  type KeyspaceLayoutRecord,
} from '@dvs/wire';
import { EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdPermissionDeniedError, type Etcd3 } from 'etcd3';
import { Backoff, readRange } from '@dvs/etcd';
import { ControllerError } from '../controller-error.js';
import type { Logger } from '../log.js';

/** The command an operator runs to convert a layout-1 keyspace (named in every refusal). */
export function migrateCommand(keys: KeyLayout): string {
  return `dvs-controller --migrate-keyspace --prefix ${keys.prefix} (with this controller's --etcd flags)`;
}

export function isEtcdRefusal(err: unknown): boolean {
  return (
    err instanceof EtcdPermissionDeniedError ||
    err instanceof EtcdAuthenticationFailedError ||
    err instanceof EtcdInvalidAuthTokenError
  );
}

/** Reads the layout record: null when absent; a ControllerError when it does not decode. */
export async function readLayoutRecord(client: Etcd3, keys: KeyLayout): Promise<KeyspaceLayoutRecord | null> {
  const raw = await client.get(keys.layout).buffer();
  if (raw === null) return null;
  const record = decodeKeyspaceLayout(raw);
  if (isRecordError(record)) {
    throw new ControllerError(
      'DVS_KEYSPACE_LAYOUT',
      `${keys.layout} does not decode (${record.field}: ${record.message}); delete it and start again, or run ${migrateCommand(keys)}`,
      'prefix',
    );
  }
  return record;
}

/** Layout-1 report keys under the prefix. */
export async function legacyReportKeys(client: Etcd3, keys: KeyLayout): Promise<string[]> {
  const { kvs } = await readRange(client, { prefix: keys.section('report') }, { keysOnly: true });
  return kvs.map((kv) => kv.key).filter((key) => keys.parseLegacyReport(key) !== null);
}

export async function writeLayoutRecord(client: Etcd3, keys: KeyLayout, writtenBy: string): Promise<void> {
  const value = encodeKeyspaceLayout({ layout: KEY_LAYOUT_VERSION, writtenBy, writtenAt: Date.now() });
  await client.if(keys.layout, 'Create', '==', 0).then(client.put(keys.layout).value(value)).commit();
}

/** One look at the keyspace: throws ControllerError when it must not be served as it is. */
async function checkOnce(client: Etcd3, keys: KeyLayout, writtenBy: string, log: Logger): Promise<void> {
  const record = await readLayoutRecord(client, keys);
  if (record !== null) {
    if (record.layout === KEY_LAYOUT_VERSION) return;
    if (record.layout > KEY_LAYOUT_VERSION) {
      throw new ControllerError(
        'DVS_KEYSPACE_LAYOUT',
        `the keyspace ${keys.prefix} has key layout ${record.layout} (written by ${record.writtenBy}); this dvs-controller knows layout ${KEY_LAYOUT_VERSION}: run the newer dvs-controller`,
        'prefix',
      );
    }
  }
  const legacy = await legacyReportKeys(client, keys);
  if (legacy.length > 0 || record !== null) {
    throw new ControllerError(
      'DVS_KEYSPACE_LAYOUT',
      `the keyspace ${keys.prefix} has key layout 1 (${legacy.length} MAC reports keyed reports/<vni>/<mac>/<host>, e.g. ${legacy[0] ?? '-'}); ` +
        `stop every dvs-controller and convert it once with: ${migrateCommand(keys)} (docs/operations.md#upgrading-the-keyspace)`,
      'prefix',
    );
  }
  await writeLayoutRecord(client, keys, writtenBy);
  log.info('keyspace layout recorded', { key: keys.layout, layout: KEY_LAYOUT_VERSION });
}

/** Waits for etcd as long as it takes (or `signal`), then checks the layout once. */
export async function ensureKeyspaceLayout(
  client: Etcd3,
  keys: KeyLayout,
  options: { writtenBy: string; log: Logger; signal?: AbortSignal },
): Promise<void> {
  const backoff = new Backoff(200, 3000);
  let announced = false;
  const onAbort = (): void => backoff.wake();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      try {
        await checkOnce(client, keys, options.writtenBy, options.log);
        return;
      } catch (err) {
        if (err instanceof ControllerError) throw err;
        if (isEtcdRefusal(err)) {
          throw new ControllerError(
            'DVS_CONFIG_INVALID',
            `etcd refused this controller's identity while reading ${keys.prefix} (${(err as Error).message}): check --etcd-user/--etcd-cert and its role (deploy/etcd/dvs-rbac.sh)`,
            'etcd-user',
          );
        }
        if (options.signal?.aborted) throw options.signal.reason as Error;
        if (!announced) {
          announced = true;
          options.log.warn('etcd unreachable: waiting for it to check the keyspace layout before serving', {
            error: (err as Error).message,
          });
        }
        await backoff.sleep();
        if (options.signal?.aborted) throw options.signal.reason as Error;
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
