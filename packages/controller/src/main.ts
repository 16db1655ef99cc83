#!/usr/bin/env node
// dvs-controller entry point: parse flags, start, stop cleanly on SIGTERM/SIGINT.
// Exit codes: 0 clean stop (or keyspace converted), 1 runtime failure, 2 bad configuration or a keyspace
// to convert first, 70 an uncaught error (crash handler). --migrate-keyspace converts and exits.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { installCrashHandlers } from '@dvs/wire';
import { createEtcdClient } from '@dvs/etcd';
import { KeyLayout } from '@dvs/wire';
import { Controller, ControllerError } from './controller.js';
import { migrateKeyspace } from './keyspace/migrate-keyspace.js';
import { parseControllerArgs, USAGE } from './config.js';
import { createJsonLogger } from './log.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

async function main(): Promise<number> {
  if (process.argv.includes('--version') || process.argv.includes('-V')) {
    process.stdout.write(`dvs-controller ${VERSION}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseControllerArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`dvs-controller: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const [flag, file] of [
    ['etcd-ca', parsed.options.etcd.caFile],
    ['etcd-cert', parsed.options.etcd.certFile],
    ['etcd-key', parsed.options.etcd.keyFile],
  ] as const) {
    if (file !== undefined && !existsSync(file)) {
      process.stderr.write(`dvs-controller: --${flag}: file ${file} does not exist\n`);
      return 2;
    }
  }
  const log = createJsonLogger(parsed.logLevel, undefined, { component: 'controller', id: parsed.options.id });
  // An error nothing caught: one log line, exit 70, and systemd/Kubernetes restarts a clean process.
  installCrashHandlers(log, { daemon: 'dvs-controller' });
  if (parsed.migrateKeyspace) {
    const client = createEtcdClient(parsed.options.etcd);
    try {
      const s = await migrateKeyspace(client, new KeyLayout(parsed.options.prefix), {
        writtenBy: `dvs-controller --migrate-keyspace (${parsed.options.id})`,
        log,
      });
      process.stdout.write(
        s.from === 2
          ? `keyspace ${s.prefix} already has key layout 2: nothing to convert\n`
          : `keyspace ${s.prefix} converted to key layout 2: ${s.moved} MAC reports moved to reports/<host>/<vni>/<mac>, ` +
              `${s.gone} gone with their lease meanwhile, ${s.dropped} on no lease deleted\n`,
      );
      return 0;
    } catch (err) {
      process.stderr.write(`dvs-controller: ${(err as Error).message}\n`);
      return err instanceof ControllerError ? 2 : 1;
    } finally {
      client.close();
    }
  }
  let controller: Controller;
  try {
    controller = await Controller.start({ ...parsed.options, log });
  } catch (err) {
    process.stderr.write(`dvs-controller: ${(err as Error).message}\n`);
    return err instanceof ControllerError && (err.code === 'DVS_CONFIG_INVALID' || err.code === 'DVS_KEYSPACE_LAYOUT')
      ? 2
      : 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await controller.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`dvs-controller: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
