import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The holder answers each test frame it reads with the same frame, tag + REFLECT_OFFSET. */
export const REFLECT_OFFSET = 1_000_000;

const HOLDER_JS = fileURLToPath(new URL('./tap-holder.js', import.meta.url));

/** A guest NIC behind the held TAP: a second TAP in the VM's namespace, frames relayed both ways as QEMU does. */
export interface TapHolderGuest {
  namespace: string;
  name: string;
}

/**
 * The test's handle on a tap-holder.js child process: a stand-in for QEMU
 * holding a VM's TAP (see tap-holder.ts). Attach the TAP as a port; kill()
 * the holder the way a VM dies, and its TAP (and guest NIC) go with it.
 */
export class TapHolder {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts the holder; resolves once its TAP (and the guest's, when given) exists. */
  static async start(namespace: string, tapName: string, guest?: TapHolderGuest): Promise<TapHolder> {
    const argv = [HOLDER_JS, namespace, tapName, ...(guest === undefined ? [] : [guest.namespace, guest.name])];
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    const holder = new TapHolder(child);
    const first = await holder.lines.next();
    if (first.value !== 'ready') {
      child.kill('SIGKILL');
      throw new Error(`tap holder did not start: ${String(first.value)}`);
    }
    return holder;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The "VM" transmits `count` test frames tagged first.. into its TAP; resolves with how many its write took. */
  async send(count: number, first: number, length = 64): Promise<number> {
    return ((await this.ask(`send ${count} ${first} ${length}`)) as { sent: number }).sent;
  }

  /** Tags of every test frame the holder has read from its TAP so far. */
  async received(): Promise<number[]> {
    return ((await this.ask('report')) as { received: number[] }).received;
  }

  /** Kills the holder the way a VM dies (SIGKILL); its TAP goes with its fd. Resolves when it has exited. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  private async ask(command: string): Promise<unknown> {
    this.child.stdin.write(`${command}\n`);
    const line = await this.lines.next();
    if (line.done === true) throw new Error(`tap holder exited before answering ${command}`);
    return JSON.parse(line.value) as unknown;
  }
}
