import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@dvs/test-support';

/** The built dvs-controller entry point. */
export const CONTROLLER_MAIN = fileURLToPath(new URL('../../../packages/controller/dist/src/main.js', import.meta.url));

export interface ControllerProcess {
  child: ChildProcess;
  /** The API's URL, as the controller logs it when it listens. */
  url: string;
  /** What it wrote so far, stdout and stderr (its JSON log lines). */
  log(): string;
  /** SIGTERM, and wait until it exited (at once when it already has). */
  stop(): Promise<void>;
}

/**
 * Starts dvs-controller with `args` (an API on 127.0.0.1:0, plain or TLS) in
 * this namespace; resolves once it logs the URL it listens at, and fails with
 * its log when it exits first.
 */
export async function startController(args: readonly string[]): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [CONTROLLER_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const url = await waitFor(
    'dvs-controller to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`controller exited ${child.exitCode}: ${log}`);
      return /"listen":"(https?:\/\/127\.0\.0\.1:\d+)"/.exec(log)?.[1];
    },
    20_000,
  );
  return {
    child,
    url,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
