/**
 * A driver for the guest's command console (QEMU `-chardev socket,server=on`
 * on a unix socket, wired to a virtio serial port in the guest): run a shell
 * command in the guest and get its output and exit status.
 *
 * The guest's /init runs a non-interactive `sh` reading one command per line
 * from the port (guest-init.ts). Each command is sent as
 *
 *     printf '\n@@dvs-b:%s@@\n' ID; sh -c 'COMMAND' </dev/null 2>&1; printf '\n@@dvs-e:%s:%d@@\n' ID $?
 *
 * and its output is what arrives between the two markers. The markers are
 * produced by printf from a format, so the typed line, were it ever echoed,
 * never looks like one; the ID is unique per command,
 * so a late marker of an earlier command (a probe sent during boot, say) is
 * never taken for this one's. `sh -c` confines a syntax error to the command.
 */
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { LabError } from '../errors.js';
import { deadlineSignal } from './deadline.js';
import { connectUnixSocket } from './unix-connect.js';

export interface ConsoleResult {
  /** What the command wrote to stdout and stderr (CR removed). */
  output: string;
  /** Its exit status. */
  status: number;
}

export interface ConsoleOptions {
  signal?: AbortSignal;
  /** Default 30 s (waitReady: 60 s). */
  timeoutMs?: number;
}

/** One line per command, read by the guest shell's `read`; long lines are a mistake, not a use. */
const MAX_COMMAND_LENGTH = 3000;
/** Console output kept for error messages once parsed. */
const TAIL_LENGTH = 2000;

/** Quotes a string for a POSIX shell as one word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The line sent to the guest for one command (see the file comment). */
export function consoleCommandLine(id: string, command: string): string {
  return `printf '\\n@@dvs-b:%s@@\\n' ${id}; sh -c ${shellQuote(command)} </dev/null 2>&1; printf '\\n@@dvs-e:%s:%d@@\\n' ${id} $?\n`;
}

/**
 * Finds the result of command `id` in console text; null while its end marker
 * has not arrived. `end` is the offset just past the end marker.
 */
export function parseConsoleResult(text: string, id: string): (ConsoleResult & { end: number }) | null {
  const endMarker = new RegExp(`\\n@@dvs-e:${id}:(\\d+)@@\\n`);
  const e = endMarker.exec(text);
  if (e === null) return null;
  const begin = `@@dvs-b:${id}@@\n`;
  const b = text.lastIndexOf(begin, e.index);
  const output = b < 0 ? '' : text.slice(b + begin.length, e.index);
  return { output, status: Number(e[1]), end: e.index + e[0].length };
}

export class GuestConsole {
  private text = '';
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private counter = 0;
  /** Per-connection tag: markers of an earlier connection never match this one's. */
  private readonly tag = randomBytes(3).toString('hex');
  private waiter: (() => void) | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk.replaceAll('\r', '');
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /** Connects to the console socket, retrying while QEMU has not created it yet. */
  static async connect(path: string, options: ConsoleOptions = {}): Promise<GuestConsole> {
    const signal = deadlineSignal(options.signal, options.timeoutMs ?? 10_000);
    return new GuestConsole(await connectUnixSocket(path, signal, 'guest console'), path);
  }

  private nextId(): string {
    return `${this.tag}${++this.counter}`;
  }

  /** Resolves when `pick` returns a value for the text received so far. */
  private async waitFor<T>(pick: () => T | null, signal: AbortSignal, what: string): Promise<T> {
    for (;;) {
      const v = pick();
      if (v !== null) return v;
      if (this.closed) throw new LabError('DVS_LAB_COMMAND_FAILED', `guest console ${this.path} closed ${what}`);
      if (signal.aborted)
        throw new LabError('DVS_LAB_TIMEOUT', `guest console: timed out ${what}; last output:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.waiter = null;
          resolve();
        };
        this.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private tail(): string {
    return this.text.slice(-TAIL_LENGTH);
  }

  /**
   * Waits until the guest's command shell answers: sends a probe every 500 ms
   * (input sent while the guest still boots waits in the port)
   * until one comes back.
   */
  async waitReady(options: ConsoleOptions = {}): Promise<void> {
    const signal = deadlineSignal(options.signal, options.timeoutMs ?? 60_000);
    await this.serialize(async () => {
      for (;;) {
        const id = this.nextId();
        const marker = `@@dvs-r:${id}@@`;
        this.socket.write(`printf '@@dvs-r:%s@@\\n' ${id}\n`);
        const round = AbortSignal.any([signal, AbortSignal.timeout(500)]);
        try {
          await this.waitFor(() => (this.text.includes(marker) ? true : null), round, 'waiting for the guest shell');
          this.text = this.text.slice(this.text.indexOf(marker) + marker.length);
          return;
        } catch (err) {
          if (signal.aborted || this.closed) throw err;
        }
      }
    });
  }

  /** Runs `command` in the guest (`sh -c`, stdin /dev/null); resolves with its output and exit status. */
  exec(command: string, options: ConsoleOptions = {}): Promise<ConsoleResult> {
    if (command.length > MAX_COMMAND_LENGTH)
      return Promise.reject(
        new LabError(
          'DVS_LAB_BAD_SPEC',
          `guest command is ${command.length} characters; the console takes ${MAX_COMMAND_LENGTH}`,
        ),
      );
    return this.serialize(async () => {
      const signal = deadlineSignal(options.signal, options.timeoutMs ?? 30_000);
      const id = this.nextId();
      this.socket.write(consoleCommandLine(id, command));
      const r = await this.waitFor(
        () => parseConsoleResult(this.text, id),
        signal,
        `running ${JSON.stringify(command)}`,
      );
      this.text = this.text.slice(r.end);
      return { output: r.output, status: r.status };
    });
  }

  /** exec(), but throws LabError DVS_LAB_COMMAND_FAILED (with the output) when the status is not 0. */
  async run(command: string, options: ConsoleOptions = {}): Promise<string> {
    const r = await this.exec(command, options);
    if (r.status !== 0)
      throw new LabError('DVS_LAB_COMMAND_FAILED', `guest: ${command}: exit ${r.status}: ${r.output.trim()}`);
    return r.output;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
