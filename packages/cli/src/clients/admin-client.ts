/**
 * Client of the agent admin socket (wire admin protocol: newline-delimited
 * JSON over a unix stream socket). One connection per CLI run; requests are
 * answered in order.
 */
import { connect, type Socket } from 'node:net';
import { decodeAdminResponse, encodeAdminLine, type AdminOk } from '@dvs/wire';
import { AgentCommandError, AgentUnreachableError } from '../cli-errors.js';

export interface AdminClientOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class AdminClient {
  private socket: Socket | null = null;
  private buffered = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: AdminOk) => void; reject: (e: Error) => void }>();
  private readonly timeoutMs: number;

  constructor(
    readonly socketPath: string,
    private readonly options: AdminClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      const fail = (error: Error & { code?: string }) => {
        const err = new AgentUnreachableError(this.socketPath, error.code ?? error.message);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        this.socket = null;
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.on('error', fail);
        socket.on('close', () => fail(Object.assign(new Error('connection closed'), { code: 'closed by agent' })));
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => this.onData(chunk));
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const response = decodeAdminResponse(line);
      if (response === null) continue;
      const waiter = this.waiting.get(response.id);
      if (!waiter) continue;
      this.waiting.delete(response.id);
      if (response.ok) waiter.resolve(response);
      else
        waiter.reject(
          new AgentCommandError(response.error.code, `agent: ${response.error.message} (${response.error.code})`),
        );
    }
  }

  /** Runs one admin command; resolves with its text and data, rejects with AgentCommandError/AgentUnreachableError. */
  async call(command: string, args: readonly string[] = []): Promise<AdminOk> {
    const socket = await this.open();
    const id = this.nextId++;
    return new Promise<AdminOk>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new AgentUnreachableError(this.socketPath, `no answer to ${command} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const abort = () => reject(new AgentUnreachableError(this.socketPath, 'aborted'));
      this.options.signal?.addEventListener('abort', abort, { once: true });
      this.waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          this.options.signal?.removeEventListener('abort', abort);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.options.signal?.removeEventListener('abort', abort);
          reject(e);
        },
      });
      socket.write(encodeAdminLine({ id, command, args: [...args] }));
    });
  }

  close(): void {
    this.socket?.removeAllListeners('close');
    this.socket?.end();
    this.socket?.destroy();
    this.socket = null;
  }
}
