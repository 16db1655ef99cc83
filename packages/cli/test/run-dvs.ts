// Runs the real built `dvs` binary as a child process and collects its output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/run-cli.js';

export const DVS_BIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

export interface DvsRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runDvs(args: string[], env: Record<string, string> = {}): Promise<DvsRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DVS_BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        DVS_CONTROLLER: 'http://127.0.0.1:9',
        DVS_AGENT_SOCKET: '/nonexistent/dvs.sock',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** No stack trace lines ("    at foo (file:…)") in the output. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+:\d+:\d+\)?$/m.test(text);
}

/**
 * Runs the same program in this process (fast: no node start-up), with the
 * environment the binary would see. The binary itself is covered by a few
 * child-process tests; the many argument cases run here.
 */
export async function runDvsInProcess(args: string[], env: Record<string, string> = {}): Promise<DvsRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdoutIsTty: false,
    env: { DVS_CONTROLLER: 'http://127.0.0.1:9', DVS_AGENT_SOCKET: '/nonexistent/dvs.sock', ...env },
  });
  return { code, stdout, stderr };
}
