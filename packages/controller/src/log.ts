/**
 * Structured logs: one JSON object per line on stderr
 * (`{"t":"…","level":"info","msg":"…",…fields}`), filtered by level.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createJsonLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  base: LogFields = {},
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit =
    (at: LogLevel) =>
    (msg: string, fields: LogFields = {}): void => {
      if (LOG_LEVELS.indexOf(at) < threshold) return;
      write(JSON.stringify({ t: new Date().toISOString(), level: at, msg, ...base, ...fields }) + '\n');
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
