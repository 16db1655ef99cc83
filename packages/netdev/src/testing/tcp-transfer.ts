import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const STREAM_JS = fileURLToPath(new URL('./tcp-stream.js', import.meta.url));

export interface TcpTransferOptions {
  /** The namespace the sender runs in. */
  from: string;
  /** The namespace the receiver listens in. */
  to: string;
  /** The receiver's address (in `to`), IPv4 or IPv6. */
  address: string;
  port: number;
  bytes: number;
  /** Stops both ends (the transfer then rejects). */
  signal?: AbortSignal;
}

export interface TcpTransferEnd {
  bytes: number;
  sha256: string;
}

interface StreamEnd {
  lines: AsyncIterator<string>;
  /** Rejects when the process ends. */
  exited: Promise<never>;
}

export interface TcpTransferResult {
  sent: TcpTransferEnd;
  received: TcpTransferEnd;
}

/**
 * One bulk TCP transfer of `bytes` random bytes between two network
 * namespaces, each end a child process inside its namespace (`ip netns exec`
 * … tcp-stream.js), so the two kernels' TCP stacks — TSO, GSO, GRO as they
 * do it — talk through whatever joins the namespaces. Resolves with the byte
 * count and SHA-256 of what was sent and of what was received: equal when
 * every byte arrived intact and in order. The caller keeps the path between
 * them moving (its forwarding runs on this process's loop).
 */
export async function runTcpTransfer(options: TcpTransferOptions): Promise<TcpTransferResult> {
  options.signal?.throwIfAborted();
  const children: ChildProcess[] = [];
  const start = (namespace: string, args: string[]): StreamEnd => {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, STREAM_JS, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const exited = new Promise<never>((_, reject) =>
      child.once('close', (code, sig) => reject(new Error(`the process ended (${code ?? sig})`))),
    );
    exited.catch(() => {}); // read only while a line is awaited
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    return { lines: lines[Symbol.asyncIterator](), exited };
  };
  const stop = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const line = async (end: StreamEnd, what: string): Promise<string> => {
    let next: IteratorResult<string>;
    try {
      next = await Promise.race([end.lines.next(), end.exited]);
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message} before it answered`);
    }
    if (next.done === true) throw new Error(`${what}: no output`);
    return next.value;
  };
  try {
    const receiver = start(options.to, ['recv', options.address, String(options.port)]);
    const ready = await line(receiver, 'the receiver listening');
    if (ready !== 'listening') throw new Error(`the receiver said ${ready}`);
    const sender = start(options.from, ['send', options.address, String(options.port), String(options.bytes)]);
    const [sent, received] = await Promise.all([line(sender, 'the sender'), line(receiver, 'the receiver')]);
    options.signal?.throwIfAborted();
    return { sent: JSON.parse(sent) as TcpTransferEnd, received: JSON.parse(received) as TcpTransferEnd };
  } finally {
    options.signal?.removeEventListener('abort', stop);
    stop();
  }
}
