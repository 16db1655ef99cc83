#!/usr/bin/env node
/**
 * dvs-agent: parse config and flags, start the Agent, stop it on SIGTERM/SIGINT.
 * Exit: 0 clean stop, 1 start failure, 2 invalid configuration, 70 an uncaught error (crash handler).
 */
import { nativeAvailable } from '@dvs/netdev';
import { installCrashHandlers } from '@dvs/wire';
import { Agent, AGENT_VERSION } from './agent.js';
import { AGENT_HELP } from './agent-help.js';
import { ConfigError } from './config/config-error.js';
import { checkEtcdIdentity } from './config/etcd-identity.js';
import { describeCheckedConfig } from './config/config-check.js';
import { loadConfig } from './config/load-config.js';
import { startAgentEtcd, type AgentEtcd } from './agent-etcd.js';
import { createLogger } from './observe/logger.js';
import { stageTraceFromEnv } from './observe/stage-trace-file.js';

async function main(argv: string[]): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig(argv);
    if (loaded.config !== null) await checkEtcdIdentity(loaded.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dvs-agent: invalid configuration (${err.code}): ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.help) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  if (loaded.version || loaded.config === null) {
    process.stdout.write(`dvs-agent ${AGENT_VERSION}\n`);
    return 0;
  }
  const config = loaded.config;
  if (loaded.check) {
    process.stdout.write(describeCheckedConfig(config, { nativeAddon: nativeAvailable() }));
    return 0;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, base: { host: config.host } });
  // An error nothing caught: one log line, exit 70, and systemd/Kubernetes restarts a clean process.
  installCrashHandlers(logger, { daemon: 'dvs-agent' });
  const agent = new Agent({ config, logger });
  // Orderly stop on the first signal: stop the etcd sync (revoking the lease,
  // so this host leaves the tables at once), then the agent.
  const stopRequested = new AbortController();
  const onSignal = (signal: string): void => {
    if (stopRequested.signal.aborted) return;
    logger.info('stopping', { signal });
    stopRequested.abort();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  let etcd: AgentEtcd | null = null;
  const stageTrace = stageTraceFromEnv();
  try {
    await agent.start();
    etcd = await startAgentEtcd(agent, logger);
  } catch (err) {
    logger.error('start failed', {
      code: (err as { code?: string }).code ?? 'DVS_INTERNAL',
      error: (err as Error).message,
    });
    await etcd?.stop(true);
    await agent.stop();
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (stopRequested.signal.aborted) resolve();
    else stopRequested.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await etcd
    ?.stop(true)
    .catch((err: unknown) => logger.warn('etcd sync stop failed', { error: (err as Error).message }));
  await agent.stop();
  stageTrace?.finish();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dvs-agent: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
