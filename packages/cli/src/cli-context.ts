/**
 * What a command needs from the outside world, injected so commands run the
 * same in the `dvs` binary and in tests: output streams, environment, clock,
 * clients, and a signal that ends `--watch`.
 */
import { ADMIN_SOCKET_DEFAULT_PATH } from '@dvs/wire';
import { CliError, EXIT_PROBLEM, UsageError } from './cli-errors.js';
import { AdminClient } from './clients/admin-client.js';
import { DEFAULT_CONTROLLER_URL } from './clients/controller-api.js';
import { ControllerClient } from './clients/controller-client.js';
import type { LabTarget } from './lab-target.js';

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
  /** `--lab`: the lab whose controller and agent sockets views use (unless --controller/--socket say otherwise). */
  lab?: LabTarget;
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
  if (opts.controller === undefined && ctx.lab !== undefined) {
    const c = ctx.lab.controller;
    if (c === null) {
      throw new CliError(
        'DVS_LAB_NO_CONTROLLER',
        `lab ${ctx.lab.id} has no controller (it was built with --no-control-plane): host views work, e.g. dvs --lab ${ctx.lab.id} agent ports`,
        EXIT_PROBLEM,
      );
    }
    return new ControllerClient(c.url, { signal: ctx.signal, socketPath: c.socketPath, lab: ctx.lab.id });
  }
  return new ControllerClient(controllerUrl(ctx, opts), { signal: ctx.signal });
}

export function agentSocketPath(ctx: CliContext, opts: SocketOption): string {
  if (opts.socket === undefined && ctx.lab !== undefined) {
    if (ctx.lab.agent === null) {
      throw new CliError('DVS_LAB_NO_AGENT', `lab ${ctx.lab.id} has no dvs hosts, so no agent to ask`, EXIT_PROBLEM);
    }
    return ctx.lab.agent.socketPath;
  }
  return opts.socket ?? ctx.io.env.DVS_AGENT_SOCKET ?? ADMIN_SOCKET_DEFAULT_PATH;
}

export function adminClient(ctx: CliContext, opts: SocketOption): AdminClient {
  return new AdminClient(agentSocketPath(ctx, opts), { signal: ctx.signal });
}

/** Colour only for a terminal, and never when NO_COLOR is set (no-color.org). */
export function useColor(ctx: CliContext): boolean {
  return ctx.io.stdoutIsTty && ctx.io.env.NO_COLOR === undefined;
}
