#!/usr/bin/env node
/**
 * dvs-agent: parse config and flags, start the Agent, stop it on SIGTERM/SIGINT.
 * Exit: 0 clean stop, 1 start failure, 2 invalid configuration.
 */
import { Agent, AGENT_VERSION } from './agent.js';
import { AGENT_HELP } from './agent-help.js';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import { startControlPlane } from './control-plane-hook.js';
import { createLogger } from './observe/logger.js';

async function main(argv: string[]): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig(argv);
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
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, base: { host: config.host } });
  const controller = new AbortController();
  const agent = new Agent({ config, logger });
  let stopping: Promise<void> | null = null;
  const stop = (signal: string): void => {
    if (stopping !== null) return;
    logger.info('stopping', { signal });
    controller.abort();
    stopping = agent.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await agent.start({ signal: controller.signal });
    await startControlPlane(agent, config, logger, controller.signal);
  } catch (err) {
    if (controller.signal.aborted) {
      await stopping;
      return 0;
    }
    logger.error('start failed', {
      code: (err as { code?: string }).code ?? 'DVS_INTERNAL',
      error: (err as Error).message,
    });
    await agent.stop();
    return 1;
  }
  await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  await stopping;
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
