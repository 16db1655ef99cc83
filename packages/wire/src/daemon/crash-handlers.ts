/**
 * What both daemons (dvs-agent, dvs-controller) do when an exception escapes
 * every handler or a promise rejects with nobody listening: write one
 * structured log line saying what and where, and exit non-zero at once, so
 * that systemd (Restart=on-failure) or Kubernetes starts a clean process. A
 * process in an unknown state keeps no tables: the agent resyncs from etcd
 * and the controller re-reads its view when restarted (docs/operations.md).
 *
 * Errors that a request can cause (an admin command, an HTTP reply) are
 * caught where they happen and never reach these handlers.
 */

/** EX_SOFTWARE (sysexits.h): an internal software error. */
export const CRASH_EXIT_CODE = 70;

export interface CrashLog {
  error(msg: string, fields?: Record<string, string | number | boolean | null | undefined>): void;
}

export interface CrashHandlerOptions {
  /** Daemon name on the log line (`dvs-agent`). */
  daemon: string;
  /** Ends the process; default process.exit. */
  exit?: (code: number) => void;
  target?: NodeJS.EventEmitter;
}

function describe(reason: unknown): { error: string; stack: string | undefined; code: string | undefined } {
  if (reason instanceof Error) {
    const code: unknown = (reason as Error & { code?: unknown }).code;
    return {
      error: `${reason.name}: ${reason.message}`,
      stack: reason.stack,
      code: typeof code === 'string' ? code : undefined,
    };
  }
  let text: string;
  try {
    text = typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason));
  } catch {
    text = String(reason);
  }
  return { error: text, stack: undefined, code: undefined };
}

/** Installs the handlers; returns a function that removes them (tests). */
export function installCrashHandlers(log: CrashLog, options: CrashHandlerOptions): () => void {
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let crashed = false;
  const crash = (kind: 'uncaught exception' | 'unhandled rejection', reason: unknown): void => {
    if (crashed) return; // one line, one exit, even if the log write itself throws again
    crashed = true;
    const { error, stack, code } = describe(reason);
    try {
      log.error(`${kind}: exiting so the supervisor restarts ${options.daemon}`, {
        daemon: options.daemon,
        kind,
        error,
        code,
        stack,
        exitCode: CRASH_EXIT_CODE,
      });
    } finally {
      exit(CRASH_EXIT_CODE);
    }
  };
  const onException = (err: unknown): void => crash('uncaught exception', err);
  const onRejection = (reason: unknown): void => crash('unhandled rejection', reason);
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
