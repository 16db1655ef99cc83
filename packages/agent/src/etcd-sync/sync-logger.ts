/** The logger EtcdSync needs; the agent's structured logger fits it. */
export type SyncLogFields = Record<string, string | number | boolean | null | undefined>;

export interface SyncLogger {
  debug(msg: string, fields?: SyncLogFields): void;
  info(msg: string, fields?: SyncLogFields): void;
  warn(msg: string, fields?: SyncLogFields): void;
  error(msg: string, fields?: SyncLogFields): void;
}

export const silentSyncLogger: SyncLogger = { debug() {}, info() {}, warn() {}, error() {} };
