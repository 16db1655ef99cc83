import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminClient, type ReplyOf } from '@dvs/admin-client';
import type { NetnsLab } from './netns-lab.js';
import { waitFor } from '@dvs/test-support';

/** The built dvs-agent entry point. */
export const AGENT_MAIN = fileURLToPath(new URL('../../../packages/agent/dist/src/main.js', import.meta.url));

export interface AgentProcess {
  child: ChildProcess;
  admin: AdminClient;
  socket: string;
  logFile: string;
  /** Runs an admin command and returns its JSON data (typed by @dvs/wire's AgentReplies for the agent's commands). */
  call<Command extends string>(command: Command, ...args: string[]): Promise<ReplyOf<Command>>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | string | null>;
}

/**
 * Writes `config` (JSON is YAML) with the admin socket and the state file in the lab's temp dir,
 * starts `node main.js --config …` inside `ns`, and waits until the admin
 * socket answers `version`.
 */
export async function startAgent(
  lab: NetnsLab,
  ns: string,
  name: string,
  config: Record<string, unknown>,
): Promise<AgentProcess> {
  const dir = await lab.tempDir();
  const socket = join(dir, `${name}.sock`);
  const file = join(dir, `${name}.yaml`);
  const logFile = join(dir, `${name}.log`);
  // The state file stays in the lab's directory unless the test names one (never /var/lib/dvs).
  const stateFile = join(dir, `${name}-state.json`);
  await writeFile(file, JSON.stringify({ adminSocket: socket, logLevel: 'debug', stateFile, ...config }, null, 2));
  const child = lab.spawn(ns, [process.execPath, AGENT_MAIN, '--config', file], logFile);
  const admin = new AdminClient(socket);
  await waitFor(
    `agent ${name} admin socket (log: ${logFile})`,
    async () => {
      if (child.exitCode !== null) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new Error(`agent ${name} exited ${child.exitCode}: ${log.split('\n').slice(-6).join(' | ')}`);
      }
      try {
        await admin.call('version', [], { timeoutMs: 1000 });
        return true;
      } catch {
        admin.close();
        return false;
      }
    },
    15_000,
  );
  return {
    child,
    admin,
    socket,
    logFile,
    async call<Command extends string>(command: Command, ...args: string[]): Promise<ReplyOf<Command>> {
      return (await admin.call(command, args)).data;
    },
    async stop() {
      admin.close();
      return lab.stop(child);
    },
  };
}
