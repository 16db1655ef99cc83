/** Runs the real `dvs-controller` binary as a child process (for SIGKILL failover tests, exit codes). */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const STARTED = /"msg":"controller started".*?"listen":"(http:\/\/[^"]+)"/;

export class ControllerProcess {
  readonly output: string[] = [];
  address = '';

  private constructor(readonly child: ChildProcess) {
    const keep = (b: Buffer): void => {
      this.output.push(...b.toString().split('\n').filter(Boolean));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Starts the binary on a free port (`--listen 127.0.0.1:0`) and resolves once it logged where it listens. */
  static async spawn(endpoint: string, id: string, extraArgs: string[] = []): Promise<ControllerProcess> {
    const args = [
      '--etcd',
      endpoint,
      '--id',
      id,
      '--listen',
      '127.0.0.1:0',
      '--election-ttl',
      '2',
      '--log-level',
      'debug',
      '--insecure-local',
    ];
    const child = spawn(process.execPath, [MAIN, ...args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new ControllerProcess(child);
    proc.address = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onExit = (code: number | null): void =>
        reject(new Error(`dvs-controller ${id} exited (${code}) before listening:\n${proc.output.join('\n')}`));
      const onData = (b: Buffer): void => {
        text += b.toString();
        const m = STARTED.exec(text);
        if (m === null) return;
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        resolve(m[1]!);
      };
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
    });
    return proc;
  }

  /** Runs the binary to its end (a refusal to start, `--migrate-keyspace`): exit code and output. */
  static run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      });
    });
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
