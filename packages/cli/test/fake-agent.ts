// A stand-in agent admin socket: answers protocol lines from a table of
// command → (args) => response, like the agent's registry would.
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdminRequest, encodeAdminLine, type AdminResponse } from '@dvs/wire';

export type FakeCommand = (
  args: string[],
) => { text: string; data: unknown } | { error: { code: string; message: string } };

let counter = 0;

export class FakeAgent {
  readonly commands = new Map<string, FakeCommand>();
  readonly calls: { command: string; args: string[] }[] = [];
  readonly path = join(tmpdir(), `dvs-cli-test-${process.pid}-${counter++}.sock`);
  private server: Server | null = null;

  on(command: string, handler: FakeCommand): this {
    this.commands.set(command, handler);
    return this;
  }

  async start(): Promise<this> {
    rmSync(this.path, { force: true });
    this.server = createServer((socket) => {
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const request = decodeAdminRequest(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (!request) continue;
          this.calls.push({ command: request.command, args: request.args });
          const handler = this.commands.get(request.command);
          const result = handler
            ? handler(request.args)
            : {
                error: {
                  code: 'DVS_UNKNOWN_COMMAND',
                  message: `unknown command ${request.command}: see list-commands`,
                },
              };
          const response: AdminResponse =
            'error' in result
              ? { id: request.id, ok: false, error: result.error }
              : { id: request.id, ok: true, ...result };
          socket.write(encodeAdminLine(response));
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => this.server?.listen(this.path, resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.path, { force: true });
  }
}
