/**
 * Every way the CLI stops early, as named errors with a stable code and the
 * exit status it maps to. Messages say what to do next; run-cli prints
 * `dvs: <message>` and never a stack trace.
 */
export const EXIT_OK = 0;
/** A status command found a problem, or a component could not be reached or refused the request. */
export const EXIT_PROBLEM = 1;
/** Bad usage: unknown command or option, malformed MAC/VNI/address. */
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Malformed input on the command line. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('DVS_USAGE', message, EXIT_USAGE);
  }
}

/** The controller's HTTP API could not be reached at all. */
export class ControllerUnreachableError extends CliError {
  override readonly name = 'ControllerUnreachableError';
  constructor(
    readonly url: string,
    cause: string,
    /** The unix socket the request went through (a lab's forwarder), if any. */
    readonly socketPath?: string,
    lab?: string,
  ) {
    super(
      'DVS_CONTROLLER_UNREACHABLE',
      lab !== undefined
        ? `controller of lab ${lab} not reachable at ${url} through ${socketPath} (${cause}): is the lab up? dvs lab status --id ${lab}`
        : `controller not reachable at ${url}${socketPath ? ` through ${socketPath}` : ''} (${cause}): is dvs-controller running? set --controller, DVS_CONTROLLER or a context (dvs config)`,
      EXIT_PROBLEM,
    );
  }
}

/** The controller answered with an error body ({ error: { code, message, field } }). */
export class ControllerApiError extends CliError {
  override readonly name = 'ControllerApiError';
  constructor(
    readonly apiCode: string,
    message: string,
    readonly status: number,
    readonly field: string | null,
  ) {
    // A request the controller rejects as malformed is a usage error of ours.
    super(apiCode, message, status === 400 ? EXIT_USAGE : EXIT_PROBLEM);
  }
}

/** The agent admin socket could not be reached. */
export class AgentUnreachableError extends CliError {
  override readonly name = 'AgentUnreachableError';
  constructor(
    readonly socketPath: string,
    cause: string,
  ) {
    super(
      'DVS_AGENT_UNREACHABLE',
      `agent admin socket not reachable at ${socketPath} (${cause}): is dvs-agent running on this host, and are you root? set --socket or DVS_AGENT_SOCKET`,
      EXIT_PROBLEM,
    );
  }
}

/** The agent answered a command with an error. */
export class AgentCommandError extends CliError {
  override readonly name = 'AgentCommandError';
  constructor(
    readonly agentCode: string,
    message: string,
  ) {
    super(
      agentCode,
      message,
      agentCode === 'DVS_BAD_ARGUMENT' || agentCode === 'DVS_UNKNOWN_COMMAND' ? EXIT_USAGE : EXIT_PROBLEM,
    );
  }
}

/** A status view found problems; the view itself was printed already. */
export class ProblemFound extends CliError {
  override readonly name = 'ProblemFound';
  constructor(summary: string) {
    super('DVS_PROBLEM_FOUND', summary, EXIT_PROBLEM);
  }
}
