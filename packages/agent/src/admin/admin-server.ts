import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { decodeAdminRequest, encodeAdminLine } from '@dvs/wire';
import type { CommandRegistry } from './command-registry.js';

/** Longest request line accepted; a longer one closes the connection. */
const MAX_LINE_BYTES = 1 << 20;

/**
 * The admin socket: a unix stream socket, mode 0600 (root only), serving the
 * newline-delimited JSON protocol of @dvs/wire admin/protocol.ts. Requests on
 * one connection are answered in order.
 */
export class AdminServer {
  private server: Server | null = null;
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly registry: CommandRegistry,
    readonly path: string,
  ) {}

  async listen(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
    await removeStaleSocket(this.path);
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Created 0600 from the start: no window where others could connect.
      const oldMask = process.umask(0o177);
      try {
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(oldMask);
      }
    });
    await chmod(this.path, 0o600);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  private serve(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = '';
    let chain: Promise<void> = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      if (pending.length > MAX_LINE_BYTES && !pending.includes('\n')) {
        socket.end(
          encodeAdminLine({ id: 0, ok: false, error: { code: 'DVS_BAD_REQUEST', message: 'request line too long' } }),
        );
        return;
      }
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === '') continue;
        chain = chain.then(() => this.answer(socket, line));
      }
    });
  }

  /**
   * Answers one request line. Nothing a command does, and no reply that
   * cannot be encoded, escapes: the caller gets DVS_INTERNAL and the
   * connection and the agent go on.
   */
  private async answer(socket: Socket, line: string): Promise<void> {
    const request = decodeAdminRequest(line);
    let reply: string;
    try {
      const response =
        request === null
          ? {
              id: 0,
              ok: false as const,
              error: {
                code: 'DVS_BAD_REQUEST',
                message: 'not a request: expected {"id":n,"command":"noun/verb","args":[…]}',
              },
            }
          : await this.registry.dispatch(request);
      reply = encodeAdminLine(response);
    } catch (err) {
      reply = encodeAdminLine({
        id: request?.id ?? 0,
        ok: false,
        error: { code: 'DVS_INTERNAL', message: `internal error: ${String((err as Error)?.message ?? err)}` },
      });
    }
    if (!socket.destroyed) socket.write(reply);
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (st.isSocket()) await unlink(path);
  } catch {
    // Not there: nothing to remove.
  }
}
