/**
 * A real QEMU live migration between two QemuVms on this machine.
 *
 *  1. The destination was started with `incoming: true`: QEMU listens on a
 *     unix socket in its run folder. A unix socket path works across network
 *     namespaces, so source and destination may sit in different ones.
 *  2. Source: `migrate-set-parameters` (bandwidth, downtime limit), then
 *     `migrate` to the destination's URI.
 *  3. Poll `query-migrate` on the source until `completed` (or `failed`/
 *     `cancelled`: LabError DVS_LAB_COMMAND_FAILED with QEMU's reason). Its
 *     `downtime` and `total-time` are QEMU's own figures.
 *  4. The destination resumes by itself (QMP RESUME event) and QEMU sends
 *     its self-announce (RARP, and a guest announce when the driver offers
 *     VIRTIO_NET_F_GUEST_ANNOUNCE). Nothing here sends frames for it.
 *  5. The source stays paused (`postmigrate`) until we quit it; its TAP
 *     disappears with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../errors.js';
import { deadlineSignal } from './deadline.js';
import type { QemuVm } from './qemu-vm.js';

export interface QemuMigrationOptions {
  signal?: AbortSignal;
  /** Give up (and cancel the migration) after this long. Default 120 s. */
  timeoutMs?: number;
  /** Migration bandwidth limit in bytes/s. Default 1 GiB/s (QEMU's own default, 32 MiB/s, makes a local move needlessly slow). */
  maxBandwidth?: number;
  /** QEMU's downtime limit in ms (how long it may pause the VM for the last copy). Default: QEMU's (300 ms). */
  downtimeLimitMs?: number;
  /** Quit the source QEMU once the destination runs (default true), and wait until its TAP is gone. */
  quitSource?: boolean;
  /** query-migrate poll interval. Default 20 ms. */
  pollMs?: number;
}

export interface QemuMigrationResult {
  /** QEMU's downtime: how long the VM was paused for the final copy (query-migrate `downtime`, ms). */
  downtimeMs: number;
  /** QEMU's total migration time (query-migrate `total-time`, ms). */
  totalTimeMs: number;
  /** QEMU's setup time (query-migrate `setup-time`, ms). */
  setupTimeMs: number;
  /** RAM bytes sent. */
  transferredBytes: number;
  /** When the source paused for the final copy (its QMP STOP event, epoch ms); null when not seen. */
  sourcePausedAtMs: number | null;
  /** When the destination resumed (its QMP RESUME event, epoch ms). */
  destinationResumedAtMs: number;
  /** Whether the source QEMU was quit and its TAP is gone. */
  sourceQuit: boolean;
}

interface QueryMigrate {
  status?: string;
  'error-desc'?: string;
  downtime?: number;
  'total-time'?: number;
  'setup-time'?: number;
  ram?: { transferred?: number };
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** Migrates `source` into `destination` (started with `incoming: true`); see the file comment. */
export async function migrateQemu(
  source: QemuVm,
  destination: QemuVm,
  options: QemuMigrationOptions = {},
): Promise<QemuMigrationResult> {
  if (destination.incoming === null)
    throw new LabError(
      'DVS_LAB_BAD_SPEC',
      `QEMU ${destination.name} was not started as a migration destination (incoming: true)`,
    );
  const signal = deadlineSignal(options.signal, options.timeoutMs ?? 120_000);
  const destStatus = await destination.status({ signal });
  if (destStatus !== 'inmigrate')
    throw new LabError('DVS_LAB_BAD_SPEC', `QEMU ${destination.name} is ${destStatus}, not waiting for a migration`);

  const params: Record<string, unknown> = { 'max-bandwidth': options.maxBandwidth ?? 1024 ** 3 };
  if (options.downtimeLimitMs !== undefined) params['downtime-limit'] = options.downtimeLimitMs;
  await source.qmp.execute('migrate-set-parameters', params, { signal });
  const sourceEvents = source.qmp.events.length;
  const destEvents = destination.qmp.events.length;
  await source.qmp.execute('migrate', { uri: destination.incoming }, { signal });

  let info: QueryMigrate = {};
  while (!FINAL.has(info.status ?? '')) {
    if (signal.aborted) {
      await source.qmp.execute('migrate_cancel').catch(() => undefined);
      throw new LabError(
        'DVS_LAB_TIMEOUT',
        `migration of ${source.name} did not complete (last status ${info.status ?? 'none'})`,
      );
    }
    await sleep(options.pollMs ?? 20);
    info = await source.qmp.execute<QueryMigrate>('query-migrate', undefined, { signal });
  }
  if (info.status !== 'completed')
    throw new LabError(
      'DVS_LAB_COMMAND_FAILED',
      `migration of ${source.name} to ${destination.name} ${info.status}: ${info['error-desc'] ?? 'QEMU gave no reason'}`,
    );

  const resumed = await destination.qmp.waitForEvent('RESUME', { fromIndex: destEvents, signal });
  const paused = source.qmp.events.slice(sourceEvents).find((e) => e.event === 'STOP') ?? null;
  let sourceQuit = false;
  if (options.quitSource !== false) {
    await source.stop();
    for (let i = 0; i < 100 && (await source.tapExists()); i++) await sleep(20);
    sourceQuit = !(await source.tapExists());
  }
  return {
    downtimeMs: info.downtime ?? NaN,
    totalTimeMs: info['total-time'] ?? NaN,
    setupTimeMs: info['setup-time'] ?? NaN,
    transferredBytes: info.ram?.transferred ?? 0,
    sourcePausedAtMs: paused?.atMs ?? null,
    destinationResumedAtMs: resumed.atMs,
    sourceQuit,
  };
}
