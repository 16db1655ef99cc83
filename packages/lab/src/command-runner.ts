import { spawn } from 'node:child_process';
import { LabError } from './errors.js';

export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this many ms. Default 30 s. */
  timeoutMs?: number;
  /** Return the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  signal?: AbortSignal;
  /** Environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the command (default: this process's). */
  cwd?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (no shell: argv is passed as is) and collects its output.
 * Throws LabError DVS_LAB_COMMAND_FAILED with the command line and stderr when it
 * fails, unless allowFailure; DVS_LAB_TOOL_MISSING when the program is not found.
 */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
      env: options.env,
      cwd: options.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(new LabError('DVS_LAB_TOOL_MISSING', `${file} is not installed (needed for: ${argv.join(' ')})`));
      } else {
        reject(new LabError('DVS_LAB_COMMAND_FAILED', `${argv.join(' ')}: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const result = {
        code: code ?? (sig ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        const why = result.stderr.trim() || result.stdout.trim() || `exit ${result.code}${sig ? ` (${sig})` : ''}`;
        reject(new LabError('DVS_LAB_COMMAND_FAILED', `${argv.join(' ')}: ${why}`));
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `ip -batch -` in a namespace (or the root namespace when netns is null), one command per line. */
export async function ipBatch(netns: string | null, lines: readonly string[], options: RunOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  const argv = netns === null ? ['ip', '-batch', '-'] : ['ip', '-n', netns, '-batch', '-'];
  await runCommand(argv, { ...options, input: lines.join('\n') + '\n' });
}

/** Runs a command inside a network namespace (`ip netns exec`). */
export function runInNamespace(netns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(['ip', 'netns', 'exec', netns, ...argv], options);
}
