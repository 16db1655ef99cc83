import type { AdminRequest, AdminResponse } from '@dvs/wire';

/**
 * The admin socket's one registry of `noun/verb` commands (as OVS's unixctl).
 * Every command has a usage line, a one-line summary, an argument count
 * range, and answers with both renderings: `text` for people, `data` (a
 * stable JSON shape) for `--json` and programs.
 *
 * Contract: a command validates every argument before it changes anything;
 * an unknown command or a bad argument answers an error and changes nothing.
 */
export interface CommandResult {
  text: string;
  data: unknown;
}

export interface AdminCommand {
  /** `noun/verb` (or a single word such as `version`). */
  name: string;
  /** Arguments as in `name <required> [optional]`. */
  usage: string;
  summary: string;
  minArgs: number;
  maxArgs: number;
  run(args: string[]): CommandResult | Promise<CommandResult>;
}

export type AdminErrorCode =
  | 'DVS_UNKNOWN_COMMAND'
  | 'DVS_BAD_ARGUMENT'
  | 'DVS_NOT_FOUND'
  | 'DVS_CONFLICT'
  | 'DVS_PORT_GONE'
  | 'DVS_BAD_REQUEST'
  | 'DVS_INTERNAL';

/** An error a command answers with; anything else thrown is reported as DVS_INTERNAL. */
export class AdminCommandError extends Error {
  override readonly name = 'AdminCommandError';
  constructor(
    readonly code: AdminErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
  }
}

export class CommandRegistry {
  private readonly commands = new Map<string, AdminCommand>();

  constructor() {
    this.register({
      name: 'list-commands',
      usage: 'list-commands',
      summary: 'list every command with its usage',
      minArgs: 0,
      maxArgs: 0,
      run: () => {
        const all = this.list();
        const width = Math.max(...all.map((c) => c.usage.length));
        return {
          text: all.map((c) => `${c.usage.padEnd(width)}  ${c.summary}`).join('\n') + '\n',
          data: all.map((c) => ({ name: c.name, usage: c.usage, summary: c.summary })),
        };
      },
    });
  }

  register(command: AdminCommand): void {
    if (this.commands.has(command.name)) throw new Error(`admin command ${command.name} registered twice`);
    this.commands.set(command.name, command);
  }

  list(): AdminCommand[] {
    return [...this.commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Runs one request; never throws (errors become error responses). */
  async dispatch(request: AdminRequest): Promise<AdminResponse> {
    const fail = (code: string, message: string): AdminResponse => ({
      id: request.id,
      ok: false,
      error: { code, message },
    });
    const command = this.commands.get(request.command);
    if (command === undefined) {
      return fail('DVS_UNKNOWN_COMMAND', `unknown command "${request.command}"; list-commands shows them all`);
    }
    const n = request.args.length;
    if (n < command.minArgs || n > command.maxArgs) {
      return fail(
        'DVS_BAD_ARGUMENT',
        `${command.name} takes ${describeCount(command)}, got ${n}; usage: ${command.usage}`,
      );
    }
    try {
      const result = await command.run(request.args);
      return { id: request.id, ok: true, text: result.text, data: result.data };
    } catch (err) {
      if (err instanceof AdminCommandError) return fail(err.code, `${err.message}; usage: ${command.usage}`);
      const code =
        typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'DVS_INTERNAL';
      return fail(code, (err as Error).message ?? String(err));
    }
  }
}

function describeCount(c: AdminCommand): string {
  if (c.minArgs === c.maxArgs) return `${c.minArgs} argument${c.minArgs === 1 ? '' : 's'}`;
  return `${c.minArgs}..${c.maxArgs} arguments`;
}
