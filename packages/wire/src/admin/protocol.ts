/**
 * The agent admin-socket protocol (unix stream socket, default /run/dvs/agent.sock).
 *
 * Framing: newline-delimited JSON, one request per line, one response per line,
 * responses in request order. A connection may carry many requests.
 *
 * Commands are `noun/verb` names from one registry on the agent (`list-commands`
 * lists them with usage). `args` are positional strings, as typed on a command
 * line. Every command answers with both renderings: `text` (for humans) and
 * `data` (stable JSON shape, for `--json`).
 */
export const ADMIN_SOCKET_DEFAULT_PATH = '/run/dvs/agent.sock';

export interface AdminRequest {
  id: number;
  command: string;
  args: string[];
}

export type AdminResponse = AdminOk | AdminError;

export interface AdminOk {
  id: number;
  ok: true;
  text: string;
  data: unknown;
}

export interface AdminError {
  id: number;
  ok: false;
  error: {
    /** Stable code: DVS_UNKNOWN_COMMAND, DVS_BAD_ARGUMENT, DVS_NOT_FOUND, DVS_INTERNAL, … */
    code: string;
    message: string;
  };
}

/** Encodes one message as a protocol line. */
export function encodeAdminLine(message: AdminRequest | AdminResponse): string {
  return JSON.stringify(message) + '\n';
}

/** Parses a request line; returns null when it is not a well-formed request. */
export function decodeAdminRequest(line: string): AdminRequest | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.id !== 'number' || typeof r.command !== 'string' || !Array.isArray(r.args)) return null;
  if (!r.args.every((a) => typeof a === 'string')) return null;
  return { id: r.id, command: r.command, args: r.args as string[] };
}

/** Parses a response line; returns null when it is not a well-formed response. */
export function decodeAdminResponse(line: string): AdminResponse | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.id !== 'number' || typeof r.ok !== 'boolean') return null;
  if (r.ok) {
    if (typeof r.text !== 'string') return null;
    return { id: r.id, ok: true, text: r.text, data: r.data };
  }
  const e = r.error as Record<string, unknown> | undefined;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return { id: r.id, ok: false, error: { code: e.code, message: e.message } };
}
