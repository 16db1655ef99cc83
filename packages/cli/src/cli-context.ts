/**
 * What a command needs from the outside world, injected so commands run the
 * same in the `dvs` binary and in tests: output streams, environment, clock,
 * clients, and a signal that ends `--watch`.
 */
import { readFileSync } from 'node:fs';
import { AdminCallError, AdminClient, AdminUnavailableError, type AdminAnswer, type ReplyOf } from '@dvs/admin-client';
import { ADMIN_SOCKET_DEFAULT_PATH, DEFAULT_CONTROLLER_URL } from '@dvs/wire';
import { AgentCommandError, AgentUnreachableError, CliError, EXIT_PROBLEM, UsageError } from './cli-errors.js';
import { ControllerClient, type ControllerCredentials } from './clients/controller-client.js';
import {
  configPath,
  contextFile,
  isContextName,
  loadCliConfig,
  selectContext,
  type ContextKey,
  type NamedContext,
} from './config/cli-config.js';
import { labContext, type LabTarget } from './lab-target.js';

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
  /** `--lab`: the lab whose controller and agent views use, instead of the environment and contexts. */
  lab?: LabTarget;
}

/** Where the controller is and how to reach it: flags, then environment, then the context (dvs config). */
export interface ControllerOption {
  controller?: string;
  context?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  token?: string;
  tokenFile?: string;
}

export interface SocketOption {
  socket?: string;
}

export interface ControllerTarget {
  url: string;
  credentials: ControllerCredentials;
  /** Where the URL came from: `--controller`, `DVS_CONTROLLER`, `context prod`, `--lab main`, `default`. */
  source: string;
  /** A lab's controller is reached through the lab's forwarder socket. */
  socketPath?: string;
  lab?: string;
}

interface Setting {
  value: string;
  source: string;
  /** A path from the config file: relative to its folder. */
  fromContext: boolean;
}

function readCredentialFile(setting: Setting, configFile: string): Buffer {
  const path = setting.fromContext ? contextFile(setting.value, configFile) : setting.value;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(
      `${setting.source}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * The context in force: a lab's (`--lab`), else --context / DVS_CONTEXT /
 * the config's current-context. A lab, chosen on the command line, also
 * stands in for the environment: flags still win over it.
 */
function activeContext(
  ctx: CliContext,
  opts: ControllerOption,
  file: string,
): { context: NamedContext | null; label: string; env: Readonly<Record<string, string | undefined>> } {
  const env = ctx.io.env;
  if (ctx.lab !== undefined) {
    for (const [given, flag] of [
      [opts.context, '--context'],
      [opts.controller, '--controller'],
    ] as const) {
      if (given !== undefined) throw new UsageError(`--lab and ${flag} both choose a controller: give one of them`);
    }
    return { context: labContext(ctx.lab), label: `--lab ${ctx.lab.id}`, env: {} };
  }
  const contextName = opts.context ?? env.DVS_CONTEXT;
  if (contextName !== undefined && !isContextName(contextName)) {
    throw new UsageError(
      `${opts.context !== undefined ? '--context' : 'DVS_CONTEXT'} "${contextName}" is not a context name`,
    );
  }
  const context = selectContext(loadCliConfig(file), contextName, file);
  return { context, label: `context ${context?.name}`, env };
}

export function controllerTarget(ctx: CliContext, opts: ControllerOption): ControllerTarget {
  const file = configPath(ctx.io.env);
  const { context, label, env } = activeContext(ctx, opts, file);
  if (ctx.lab !== undefined && ctx.lab.controller === null) {
    throw new CliError(
      'DVS_LAB_NO_CONTROLLER',
      `lab ${ctx.lab.id} has no controller (it was built with --no-control-plane): host views work, e.g. dvs --lab ${ctx.lab.id} agent ports`,
      EXIT_PROBLEM,
    );
  }
  const pick = (flag: string | undefined, flagName: string, envName: string, key: ContextKey): Setting | undefined => {
    if (flag !== undefined) return { value: flag, source: flagName, fromContext: false };
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName, fromContext: false };
    const fromContext = context?.[key];
    if (fromContext !== undefined) return { value: fromContext, source: `${label} (${key})`, fromContext: true };
    return undefined;
  };
  const urlSetting = pick(opts.controller, '--controller', 'DVS_CONTROLLER', 'controller');
  const raw = urlSetting?.value ?? DEFAULT_CONTROLLER_URL;
  const source = urlSetting?.source ?? 'default';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source} "${raw}" is not a URL: expected something like ${DEFAULT_CONTROLLER_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} "${raw}" must be an http:// or https:// URL`);
  }
  const credentials: ControllerCredentials = {};
  const cacert = pick(opts.cacert, '--cacert', 'DVS_CACERT', 'cacert');
  const cert = pick(opts.cert, '--cert', 'DVS_CERT', 'cert');
  const key = pick(opts.key, '--key', 'DVS_KEY', 'key');
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(
      `a client certificate needs both --cert and --key (or DVS_CERT and DVS_KEY); got only ${(cert ?? key)!.source}`,
    );
  }
  if (cacert) credentials.ca = readCredentialFile(cacert, file);
  if (cert && key) {
    credentials.cert = readCredentialFile(cert, file);
    credentials.key = readCredentialFile(key, file);
  }
  // The first of: --token, --token-file, DVS_TOKEN, DVS_TOKEN_FILE, the context's token, its token-file.
  const tokenSources: [string | undefined, string, boolean, boolean][] = [
    [opts.token, '--token', false, false],
    [opts.tokenFile, '--token-file', true, false],
    [env.DVS_TOKEN || undefined, 'DVS_TOKEN', false, false],
    [env.DVS_TOKEN_FILE || undefined, 'DVS_TOKEN_FILE', true, false],
    [context?.token, `${label} (token)`, false, true],
    [context?.['token-file'], `${label} (token-file)`, true, true],
  ];
  const found = tokenSources.find(([value]) => value !== undefined);
  if (found !== undefined) {
    const [value, tokenSource, isFile, fromContext] = found as [string, string, boolean, boolean];
    const text = isFile
      ? readCredentialFile({ value, source: tokenSource, fromContext }, file).toString('utf8').trim()
      : value.trim();
    if (text === '') throw new UsageError(`${tokenSource}: the token is empty`);
    credentials.token = text;
  }
  if (url.protocol === 'http:' && (credentials.token !== undefined || credentials.cert !== undefined)) {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host !== 'localhost' && host !== '::1' && !host.startsWith('127.')) {
      throw new UsageError(
        `${source} "${raw}" is plain http: credentials would cross the network in clear text; use https://`,
      );
    }
  }
  // A lab's controller listens in the lab's underlay namespace: the lab's forwarder socket reaches it.
  const lab = ctx.lab;
  return {
    url: raw,
    credentials,
    source,
    ...(lab?.controller ? { socketPath: lab.controller.socketPath, lab: lab.id } : {}),
  };
}

export function controllerClient(ctx: CliContext, opts: ControllerOption): ControllerClient {
  const target = controllerTarget(ctx, opts);
  return new ControllerClient(target.url, {
    signal: ctx.signal,
    ...target.credentials,
    ...(target.socketPath !== undefined ? { socketPath: target.socketPath, lab: target.lab } : {}),
  });
}

export function agentSocketPath(ctx: CliContext, opts: SocketOption): string {
  if (opts.socket !== undefined) return opts.socket;
  if (ctx.lab !== undefined) {
    if (ctx.lab.agent === null) {
      throw new CliError('DVS_LAB_NO_AGENT', `lab ${ctx.lab.id} has no dvs hosts, so no agent to ask`, EXIT_PROBLEM);
    }
    return ctx.lab.agent.socketPath;
  }
  if (ctx.io.env.DVS_AGENT_SOCKET !== undefined) return ctx.io.env.DVS_AGENT_SOCKET;
  const file = configPath(ctx.io.env);
  const socket = selectContext(loadCliConfig(file), ctx.io.env.DVS_CONTEXT, file)?.socket;
  return socket !== undefined ? contextFile(socket, file) : ADMIN_SOCKET_DEFAULT_PATH;
}

/** The agent's admin socket as the CLI uses it: failures become CLI errors with their exit codes. */
export interface AgentAdmin {
  /** Rejects with AgentCommandError (the agent said no) or AgentUnreachableError (no answer). */
  call<Command extends string>(command: Command, args?: readonly string[]): Promise<AdminAnswer<ReplyOf<Command>>>;
  close(): void;
}

/** How long the CLI waits for the agent to answer one command. */
const AGENT_ANSWER_TIMEOUT_MS = 5000;

export function adminClient(ctx: CliContext, opts: SocketOption): AgentAdmin {
  const path = agentSocketPath(ctx, opts);
  const client = new AdminClient(path, { signal: ctx.signal, timeoutMs: AGENT_ANSWER_TIMEOUT_MS });
  return {
    call: <Command extends string>(command: Command, args: readonly string[] = []) =>
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
