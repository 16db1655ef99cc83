/**
 * `dvs --lab <id>[/<host>] …`: point every view at a namespace lab on this
 * machine. The lab's controller listens inside its underlay namespace, out of
 * the host shell's reach; the lab records a unix-socket forwarder to it and
 * each agent's admin socket, and @dvs/lab's `labEndpoints(id)` reads them.
 *
 * A lab target acts as a context of the CLI (dvs config) chosen on the
 * command line: the controller's URL, CA and the lab's admin token, plus the
 * forwarder socket that reaches it, and the agent socket host views use. It
 * replaces the environment and the config's contexts; --cacert, --token,
 * --socket and the other flags still win over it.
 */
import { CliError, EXIT_PROBLEM, UsageError } from './cli-errors.js';
import { LabUnavailableError, loadLab, type LabEndpointsAnswer, type ModuleLoader } from './commands/lab-command.js';
import type { NamedContext } from './config/cli-config.js';

export interface LabTarget {
  id: string;
  /** Controller API as the lab records it (null: the lab has no controller). */
  controller: LabEndpointsAnswer['controller'];
  /** The chosen host's agent admin socket (the named host, else the lab's first dvs host). */
  agent: { host: string; socketPath: string } | null;
}

/** The lab as a context: what controllerTarget() reads instead of the config file's. */
export function labContext(lab: LabTarget): NamedContext {
  const c = lab.controller;
  return {
    name: `lab-${lab.id}`,
    ...(c ? { controller: c.url } : {}),
    ...(c?.cacert ? { cacert: c.cacert } : {}),
    ...(c?.tokenFile ? { 'token-file': c.tokenFile } : {}),
    ...(lab.agent ? { socket: lab.agent.socketPath } : {}),
  };
}

export class LabNotFoundError extends CliError {
  override readonly name = 'LabNotFoundError';
  constructor(id: string) {
    super(
      'DVS_LAB_NOT_FOUND',
      `no lab "${id}" is recorded on this machine: see dvs lab list, or dvs lab up --id ${id}`,
      EXIT_PROBLEM,
    );
  }
}

/** Resolves `--lab <id>[/<host>]` to the lab's endpoints. */
export async function resolveLabTarget(spec: string, load?: ModuleLoader): Promise<LabTarget> {
  const [id, host, extra] = spec.split('/');
  if (extra !== undefined || id === '' || host === '') {
    throw new UsageError(`--lab "${spec}" is not <id> or <id>/<host>: e.g. --lab main or --lab main/h2`);
  }
  const lab = await loadLab(load);
  if (typeof lab.labEndpoints !== 'function') {
    throw new LabUnavailableError('@dvs/lab does not export labEndpoints()');
  }
  let found: LabEndpointsAnswer | null;
  try {
    found = await lab.labEndpoints(id, '--lab');
  } catch (error) {
    if ((error as { code?: string }).code === 'DVS_LAB_BAD_SPEC') throw new UsageError((error as Error).message);
    throw error;
  }
  if (found === null) throw new LabNotFoundError(id);
  const agent = host === undefined ? found.agents[0] : found.agents.find((a) => a.host === host);
  if (host !== undefined && agent === undefined) {
    const known = found.agents.map((a) => a.host).join(', ') || 'none';
    throw new UsageError(`--lab ${spec}: lab ${id} has no dvs host "${host}" (its dvs hosts: ${known})`);
  }
  return {
    id: found.id,
    controller: found.controller,
    agent: agent ? { host: agent.host, socketPath: agent.adminSocket } : null,
  };
}
