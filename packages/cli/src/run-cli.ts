/**
 * Runs `dvs` with the given arguments and returns the exit status, mapping
 * every failure to a one-line message and a code: commander usage errors → 2,
 * CliError → its exitCode, anything else → 1 with "internal error" (stack
 * only with DVS_DEBUG=1). Never throws.
 */
import { CommanderError } from 'commander';
import type { CliContext, CliIo } from './cli-context.js';
import { CliError, EXIT_OK, EXIT_PROBLEM, EXIT_USAGE } from './cli-errors.js';
import { runLab } from './commands/lab-command.js';
import { buildProgram, prepareCommand } from './program.js';

export interface RunCliOptions {
  signal?: AbortSignal;
  now?: () => number;
}

/** Commander codes that are a successful exit (help or version asked for). */
const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.version']);

export async function runCli(argv: readonly string[], io: CliIo, options: RunCliOptions = {}): Promise<number> {
  const ctx: CliContext = {
    io,
    now: options.now ?? Date.now,
    signal: options.signal ?? new AbortController().signal,
    exitCode: EXIT_OK,
  };
  try {
    if (argv[0] === 'lab') {
      return await runLab(argv.slice(1), ctx, (cmd) => prepareCommand(cmd, ctx));
    }
    const program = buildProgram(ctx, {
      helpWidth: io.stdoutIsTty ? Math.min(Math.max(io.columns ?? 80, 60), 120) : 100,
    });
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (COMMANDER_OK.has(error.code) || (error.code === 'commander.help' && error.exitCode === 0)) return EXIT_OK;
      // Commander already printed its message (and the help hint) to stderr.
      return EXIT_USAGE;
    }
    if (error instanceof CliError) {
      io.stderr(`dvs: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`dvs: internal error: ${message} (set DVS_DEBUG=1 for details)\n`);
    if (io.env.DVS_DEBUG && error instanceof Error && error.stack) io.stderr(error.stack + '\n');
    return EXIT_PROBLEM;
  }
}
