/** Runs the real `dvs-controller` binary as a child process (for SIGKILL failover tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ControllerProcess {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly address: string,
  ) {
    const keep = (b: Buffer): void => {
      this.output.push(...b.toString().split('\n').filter(Boolean));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async spawn(endpoint: string, id: string, extraArgs: string[] = []): Promise<ControllerProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        MAIN,
        '--etcd',
        endpoint,
        '--id',
        id,
        '--listen',
        `127.0.0.1:${port}`,
        '--election-ttl',
        '2',
        '--log-level',
        'debug',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new ControllerProcess(child, `http://127.0.0.1:${port}`);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child.pid === undefined) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(this.child.pid, signal);
    return exited;
  }
}
