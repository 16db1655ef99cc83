import { createConnection, type Socket } from 'node:net';
import { ADMIN_SOCKET_DEFAULT_PATH, decodeAdminResponse, encodeAdminLine, type AdminResponse } from '@dvs/wire';

/** An admin command answered with an error; `code` is the stable one from the agent. */
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A small client of the agent's admin socket. One connection, requests
 * pipelined, answers matched by id. Errors: AdminCallError with the agent's
 * code, or DVS_ADMIN_UNAVAILABLE / DVS_ADMIN_TIMEOUT for transport trouble.
 */
export class AdminClient {
  private socket: Socket | null = null;
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, (r: AdminResponse | Error) => void>();

  constructor(readonly path: string = ADMIN_SOCKET_DEFAULT_PATH) {}

  /** Runs `command args…`; resolves to { text, data } or rejects with AdminCallError. */
  async call(
    command: string,
    args: readonly string[] = [],
    options: AdminCallOptions = {},
  ): Promise<{ text: string; data: unknown }> {
    const socket = await this.connect();
    const id = this.nextId++;
    const response = await new Promise<AdminResponse | Error>((resolve) => {
      const timer = setTimeout(
        () =>
          settle(new AdminCallError('DVS_ADMIN_TIMEOUT', `${command}: no answer in ${options.timeoutMs ?? 10000} ms`)),
        options.timeoutMs ?? 10000,
      );
      const onAbort = () => settle(new AdminCallError('DVS_ABORTED', `${command}: aborted`));
      const settle = (r: AdminResponse | Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(id);
        resolve(r);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, settle);
      socket.write(encodeAdminLine({ id, command, args: [...args] }));
    });
    if (response instanceof Error) throw response;
    if (!response.ok) throw new AdminCallError(response.error.code, response.error.message);
    return { text: response.text, data: response.data };
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<Socket> {
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.path);
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', (err) => {
        const failure = new AdminCallError('DVS_ADMIN_UNAVAILABLE', `admin socket ${this.path}: ${err.message}`);
        for (const settle of this.waiting.values()) settle(failure);
        if (this.socket === socket) this.socket = null;
        reject(failure);
      });
      socket.on('close', () => {
        for (const settle of this.waiting.values())
          settle(new AdminCallError('DVS_ADMIN_UNAVAILABLE', 'admin socket closed'));
        if (this.socket === socket) this.socket = null;
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
  }
}
