import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './run-command.js';

/** The built `dvs` binary. */
export const DVS_CLI = fileURLToPath(new URL('../../../packages/cli/dist/src/main.js', import.meta.url));

/**
 * Runs the real `dvs` binary with only PATH and `env` in its environment (no
 * DVS_* leaking in from the test runner) and collects its output; any exit
 * code resolves.
 */
export function runDvs(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  return run([process.execPath, DVS_CLI, ...args], {
    allowFailure: true,
    env: { PATH: process.env.PATH ?? '', ...env },
    ...options,
  });
}
