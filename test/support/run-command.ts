import { spawn } from 'node:child_process';

/** A command that failed; carries its output for the test report. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code = 'DVS_COMMAND_FAILED';
  constructor(
    message: string,
    readonly result: RunResult | null,
  ) {
    super(message);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill (SIGKILL) after this many ms. Default 30 s. */
  timeoutMs?: number;
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
  input?: string;
  signal?: AbortSignal;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Runs argv without a shell and collects its output; rejects with CommandError on failure. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal, env: options.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CommandError(`${argv.join(' ')}: ${e.message}`, null));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const result = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (result.code !== 0 && options.allowFailure !== true) {
        const why = result.stderr.trim() || result.stdout.trim() || `exit ${result.code}${sig ? ` (${sig})` : ''}`;
        reject(new CommandError(`${argv.join(' ')}: ${why}`, result));
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
