/**
 * Runs a view once or under --watch. A view fetches, then returns both
 * renderings and how many problems it found; the runner prints JSON or text,
 * maps problems to exit 1, and in watch mode redraws every --interval seconds
 * (clearing a terminal; separating frames otherwise; NDJSON with --json)
 * until SIGINT/SIGTERM, showing errors in place instead of stopping.
 */
import type { CliContext } from './cli-context.js';
import { CliError, EXIT_OK, EXIT_PROBLEM } from './cli-errors.js';

export interface ViewResult {
  text: string;
  json: unknown;
  /** Problems found (tunnels down, hosts down, a MAC not found…); > 0 → exit 1. */
  problems: number;
}

export interface ViewOptions {
  json?: boolean;
  watch?: boolean;
  interval?: number;
}

export function printJson(ctx: CliContext, value: unknown, compact = false): void {
  ctx.io.stdout(JSON.stringify(value, null, compact ? undefined : 2) + '\n');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function runView(ctx: CliContext, opts: ViewOptions, view: () => Promise<ViewResult>): Promise<void> {
  if (!opts.watch) {
    const result = await view();
    if (opts.json) printJson(ctx, result.json);
    else ctx.io.stdout(result.text.endsWith('\n') ? result.text : result.text + '\n');
    ctx.exitCode = result.problems > 0 ? EXIT_PROBLEM : EXIT_OK;
    return;
  }
  const intervalMs = (opts.interval ?? 2) * 1000;
  while (!ctx.signal.aborted) {
    let frame: string;
    try {
      const result = await view();
      frame = opts.json ? JSON.stringify(result.json) : result.text;
    } catch (error) {
      if (!(error instanceof CliError) || ctx.signal.aborted) {
        if (ctx.signal.aborted) break;
        throw error;
      }
      frame = opts.json
        ? JSON.stringify({ error: { code: error.code, message: error.message } })
        : `dvs: ${error.message}`;
    }
    const stamp = new Date(ctx.now()).toISOString();
    if (opts.json) ctx.io.stdout(frame + '\n');
    else if (ctx.io.stdoutIsTty)
      ctx.io.stdout(`\x1b[2J\x1b[H${stamp}  (every ${intervalMs / 1000}s, Ctrl-C to stop)\n\n${frame}\n`);
    else ctx.io.stdout(`--- ${stamp}\n${frame}\n`);
    await sleep(intervalMs, ctx.signal);
  }
  ctx.exitCode = EXIT_OK;
}
