/**
 * A long-running `ip -n <netns> -batch -` fed line by line. `ip` executes each
 * line as it reads it, so a switchover written to an already running session
 * costs no process start: the migration's downtime is the kernel's, not fork's.
 * Each run() ends with a marker command whose output tells us the lines before
 * it are done; a failing line makes `ip` exit, which rejects the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LabError } from './errors.js';

const MARKER = 'link show dev lo';

export class IpBatchSession {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private waiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private exited = false;

  constructor(readonly netns: string) {
    this.child = spawn('ip', ['-n', netns, '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.stdout += d;
      if (this.waiter && /\blo:/.test(this.stdout)) {
        this.stdout = '';
        const w = this.waiter;
        this.waiter = null;
        w.resolve();
      }
    });
    this.child.stderr!.on('data', (d: string) => (this.stderr += d));
    this.child.on('error', () => undefined);
    this.child.stdin!.on('error', () => undefined);
    this.child.on('close', () => {
      this.exited = true;
      const w = this.waiter;
      this.waiter = null;
      w?.reject(new LabError('DVS_LAB_COMMAND_FAILED', `ip -n ${netns} -batch: ${this.stderr.trim() || 'exited'}`));
    });
  }

  /** Executes lines in order; resolves when all ran. One run at a time. */
  run(lines: readonly string[]): Promise<void> {
    if (this.exited) {
      return Promise.reject(
        new LabError('DVS_LAB_COMMAND_FAILED', `ip -n ${this.netns} -batch: ${this.stderr.trim() || 'exited'}`),
      );
    }
    if (this.waiter) return Promise.reject(new Error('IpBatchSession: one run at a time'));
    return new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.child.stdin!.write([...lines, MARKER].join('\n') + '\n');
    });
  }

  close(): void {
    if (!this.exited) this.child.stdin!.end();
  }
}
