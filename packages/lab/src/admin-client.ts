/**
 * A client of one agent's admin socket (newline-delimited JSON, see
 * @dvs/wire admin protocol). One connection, requests answered in order;
 * the lab keeps it open while it polls FDBs during a migration.
 */
import { connect, type Socket } from 'node:net';
import { decodeAdminResponse, encodeAdminLine, type AdminResponse } from '@dvs/wire';
import { LabError } from './errors.js';

export class AdminCommandError extends Error {
  readonly code: string;
  constructor(command: string, code: string, message: string) {
    super(`${command}: ${message} (${code})`);
    this.name = 'AdminCommandError';
    this.code = code;
  }
}

export class AdminClient {
  readonly path: string;
  private socket: Socket | null = null;
  private nextId = 1;
  private buffered = '';
  private readonly pending = new Map<number, (r: AdminResponse | Error) => void>();

  constructor(path: string) {
    this.path = path;
  }

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.path);
      s.once('connect', () => resolve(s));
      s.once('error', (e) =>
        reject(new LabError('DVS_LAB_UNAVAILABLE', `agent admin socket ${this.path}: ${e.message}`, { cause: e })),
      );
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const fail = (e: Error) => {
      this.socket = null;
      for (const [, settle] of this.pending) settle(e);
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new LabError('DVS_LAB_UNAVAILABLE', `agent admin socket ${this.path} closed`)));
    this.socket = socket;
    return socket;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const response = decodeAdminResponse(line);
      if (!response) continue;
      const settle = this.pending.get(response.id);
      this.pending.delete(response.id);
      settle?.(response);
    }
  }

  /** Sends one command; resolves with the ok response, rejects with AdminCommandError otherwise. */
  async call(
    command: string,
    args: readonly string[] = [],
    timeoutMs = 5000,
  ): Promise<{ text: string; data: unknown }> {
    const socket = await this.open();
    const id = this.nextId++;
    const response = await new Promise<AdminResponse | Error>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(new LabError('DVS_LAB_TIMEOUT', `${command}: no answer from ${this.path} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      socket.write(encodeAdminLine({ id, command, args: [...args] }));
    });
    if (response instanceof Error) throw response;
    if (!response.ok) throw new AdminCommandError(command, response.error.code, response.error.message);
    return { text: response.text, data: response.data };
  }

  /** Names of the commands the agent registers (`list-commands`). */
  async commands(): Promise<string[]> {
    const { data } = await this.call('list-commands');
    if (Array.isArray(data)) {
      return data.map((c: unknown) =>
        typeof c === 'string'
          ? c
          : String((c as { name?: unknown; command?: unknown }).name ?? (c as { command?: unknown }).command),
      );
    }
    return [];
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
