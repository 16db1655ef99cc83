/**
 * What a command needs from the outside world, injected so commands run the
 * same in the `dvs` binary and in tests: output streams, environment, clock,
 * clients, and a signal that ends `--watch`.
 */
import { AdminCallError, AdminClient, AdminUnavailableError, type AdminAnswer } from '@dvs/admin-client';
import { ADMIN_SOCKET_DEFAULT_PATH } from '@dvs/wire';
import { AgentCommandError, AgentUnreachableError, UsageError } from './cli-errors.js';
import { DEFAULT_CONTROLLER_URL } from './clients/controller-api.js';
import { ControllerClient } from './clients/controller-client.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Colours and screen clearing only when stdout is a terminal. */
  stdoutIsTty: boolean;
  /** Terminal width when stdout is a terminal (help text wraps to it). */
  columns?: number;
  env: Readonly<Record<string, string | undefined>>;
}

export interface CliContext {
  io: CliIo;
  now(): number;
  /** Aborted on SIGINT/SIGTERM: ends --watch loops cleanly. */
  signal: AbortSignal;
  /** Resolved exit code of the command that ran (set by actions). */
  exitCode: number;
}

export interface ControllerOption {
  controller?: string;
}

export interface SocketOption {
  socket?: string;
}

export function controllerUrl(ctx: CliContext, opts: ControllerOption): string {
  const raw = opts.controller ?? ctx.io.env.DVS_CONTROLLER ?? DEFAULT_CONTROLLER_URL;
  const source =
    opts.controller !== undefined
      ? '--controller'
      : ctx.io.env.DVS_CONTROLLER !== undefined
        ? 'DVS_CONTROLLER'
        : 'default';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source} "${raw}" is not a URL: expected something like ${DEFAULT_CONTROLLER_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} "${raw}" must be an http:// or https:// URL`);
  }
  return raw;
}

export function controllerClient(ctx: CliContext, opts: ControllerOption): ControllerClient {
  return new ControllerClient(controllerUrl(ctx, opts), { signal: ctx.signal });
}

export function agentSocketPath(ctx: CliContext, opts: SocketOption): string {
  return opts.socket ?? ctx.io.env.DVS_AGENT_SOCKET ?? ADMIN_SOCKET_DEFAULT_PATH;
}

/** The agent's admin socket as the CLI uses it: failures become CLI errors with their exit codes. */
export interface AgentAdmin {
  /** Rejects with AgentCommandError (the agent said no) or AgentUnreachableError (no answer). */
  call(command: string, args?: readonly string[]): Promise<AdminAnswer>;
  close(): void;
}

/** How long the CLI waits for the agent to answer one command. */
const AGENT_ANSWER_TIMEOUT_MS = 5000;

export function adminClient(ctx: CliContext, opts: SocketOption): AgentAdmin {
  const path = agentSocketPath(ctx, opts);
  const client = new AdminClient(path, { signal: ctx.signal, timeoutMs: AGENT_ANSWER_TIMEOUT_MS });
  return {
    call: (command, args = []) =>
      client.call(command, args).catch((error: unknown) => {
        if (error instanceof AdminUnavailableError) throw new AgentUnreachableError(path, error.reason);
        if (error instanceof AdminCallError)
          throw new AgentCommandError(error.code, `agent: ${error.message} (${error.code})`);
        throw error;
      }),
    close: () => client.close(),
  };
}

/** Colour only for a terminal, and never when NO_COLOR is set (no-color.org). */
export function useColor(ctx: CliContext): boolean {
  return ctx.io.stdoutIsTty && ctx.io.env.NO_COLOR === undefined;
}
