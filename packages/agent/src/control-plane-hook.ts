import type { Agent } from './agent.js';
import type { AgentConfig } from './config/agent-config.js';
import type { Logger } from './observe/logger.js';

/**
 * Starts the etcd sync when the config has an `etcd:` section. The sync lives
 * in control/ (another module, loaded on demand so an agent without etcd never
 * loads etcd3); without the section the agent runs from its static config.
 */
export async function startControlPlane(
  agent: Agent,
  config: AgentConfig,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  if (config.etcd === null) return;
  let mod: Record<string, unknown>;
  try {
    mod = (await import('./control/index.js' as string)) as Record<string, unknown>;
  } catch (err) {
    throw Object.assign(
      new Error(`etcd: is configured but the etcd sync is not available (${(err as Error).message})`),
      { code: 'DVS_ETCD_UNAVAILABLE' },
    );
  }
  const start = mod.startEtcdSync;
  if (typeof start !== 'function') {
    throw Object.assign(new Error('etcd: is configured but control/ exports no startEtcdSync()'), {
      code: 'DVS_ETCD_UNAVAILABLE',
    });
  }
  await (start as (o: unknown) => Promise<unknown>)({
    agent,
    dataPath: agent.dataPath,
    config,
    etcd: config.etcd,
    logger,
    signal,
  });
}
