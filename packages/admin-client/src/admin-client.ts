/**
 * The client of the agent's admin socket (protocol: @dvs/wire admin/,
 * newline-delimited JSON over a unix stream socket). One connection, opened
 * on the first call; requests are pipelined and answers matched by id.
 *
 * Every call ends in exactly one way, and then leaves nothing behind (its
 * timer cleared, its abort listener removed, its waiter forgotten, so a late
 * answer is ignored):
 *  - the agent's answer: `{ text, data }`, or AdminCallError with the agent's
 *    stable code (DVS_BAD_ARGUMENT, DVS_NOT_FOUND, DVS_UNKNOWN_COMMAND, …);
 *  - AdminUnavailableError: DVS_ADMIN_UNAVAILABLE (no socket, connection
 *    lost), DVS_ADMIN_TIMEOUT (no answer in time), DVS_ABORTED (the signal).
 */
import { createConnection, type Socket } from 'node:net';
import {
  ADMIN_SOCKET_DEFAULT_PATH,
  decodeAdminResponse,
  encodeAdminLine,
  type AdminResponse,
  type AgentCommandName,
  type AgentReplies,
} from '@dvs/wire';

/** The agent answered the command with an error; `code` is the agent's stable code. */
export class AdminCallError extends Error {
  override readonly name: string = 'AdminCallError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type AdminTransportCode = 'DVS_ADMIN_UNAVAILABLE' | 'DVS_ADMIN_TIMEOUT' | 'DVS_ABORTED';

/** The command got no answer: the socket is not there, went away, was too slow, or the call was aborted. */
export class AdminUnavailableError extends AdminCallError {
  override readonly name = 'AdminUnavailableError';
  constructor(
    override readonly code: AdminTransportCode,
    /** The socket path. */
    readonly path: string,
    /** What happened, without the path ("ENOENT", "no answer to fdb/show in 5000 ms", "aborted"). */
    readonly reason: string,
  ) {
    super(code, `admin socket ${path}: ${reason}`);
  }
}

export interface AdminCallOptions {
  /** How long to wait for the answer (default 10 000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** An answer: text for people, data for programs (typed by command: @dvs/wire's AgentReplies). */
export interface AdminAnswer<Data = unknown> {
  text: string;
  data: Data;
}

/** The data a command answers with: its AgentReplies shape for the agent's commands, else unknown. */
export type ReplyOf<Command extends string> = Command extends AgentCommandName ? AgentReplies[Command] : unknown;

type Settle = (outcome: AdminResponse | Error) => void;

export class AdminClient {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, Settle>();

  /** `defaults` apply to every call; a call's own options override them. */
  constructor(
    readonly path: string = ADMIN_SOCKET_DEFAULT_PATH,
    private readonly defaults: AdminCallOptions = {},
  ) {}

  /** Calls waiting for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Runs `command args…`; resolves to the agent's `{ text, data }`. */
  async call<Command extends string>(
    command: Command,
    args: readonly string[] = [],
    options: AdminCallOptions = {},
  ): Promise<AdminAnswer<ReplyOf<Command>>> {
    const timeoutMs = options.timeoutMs ?? this.defaults.timeoutMs ?? 10_000;
    const signal = options.signal ?? this.defaults.signal;
    if (signal?.aborted) throw new AdminUnavailableError('DVS_ABORTED', this.path, `${command}: aborted`);
    const socket = await this.connect();
    const id = this.nextId++;
    const outcome = await new Promise<AdminResponse | Error>((resolve) => {
      const timer = setTimeout(
        () =>
          settle(
            new AdminUnavailableError('DVS_ADMIN_TIMEOUT', this.path, `no answer to ${command} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const onAbort = (): void => settle(new AdminUnavailableError('DVS_ABORTED', this.path, `${command}: aborted`));
      const settle: Settle = (r) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(id);
        resolve(r);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, settle);
      socket.write(encodeAdminLine({ id, command, args: [...args] }));
    });
    if (outcome instanceof Error) throw outcome;
    if (!outcome.ok) throw new AdminCallError(outcome.error.code, outcome.error.message);
    return { text: outcome.text, data: outcome.data as ReplyOf<Command> };
  }

  /** Closes the connection; calls still waiting fail with DVS_ADMIN_UNAVAILABLE. */
  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private failAll(reason: string): void {
    const failure = new AdminUnavailableError('DVS_ADMIN_UNAVAILABLE', this.path, reason);
    for (const settle of [...this.waiting.values()]) settle(failure);
  }

  private connect(): Promise<Socket> {
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = createConnection(this.path);
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const reason = err.code ?? err.message;
        if (this.connecting !== null && this.socket !== socket) {
          this.connecting = null;
          reject(new AdminUnavailableError('DVS_ADMIN_UNAVAILABLE', this.path, reason));
        }
        this.failAll(reason);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = null;
        this.buffer = '';
        this.failAll('connection closed');
      });
      socket.on('data', (chunk: string) => {
        this.buffer += chunk;
        let nl: number;
        while ((nl = this.buffer.indexOf('\n')) >= 0) {
          const response = decodeAdminResponse(this.buffer.slice(0, nl));
          this.buffer = this.buffer.slice(nl + 1);
          if (response !== null) this.waiting.get(response.id)?.(response);
        }
      });
    });
    return this.connecting;
  }
}
