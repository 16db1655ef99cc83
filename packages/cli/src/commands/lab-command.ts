/**
 * `dvs lab …` runs the namespace lab's own commander program from @dvs/lab.
 * @dvs/lab depends on @dvs/cli, so the CLI never imports it at build time:
 * it is loaded on demand, and a missing or older lab gives a clear error.
 *
 * Contract with @dvs/lab: it exports `createLabCommand(): Command` (a
 * commander program named `lab`), and `labEndpoints(id)` for `dvs --lab`
 * (lab-target.ts). package.json declares it as an optional peer dependency:
 * the CLI works without it, and says so when asked for it.
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, EXIT_PROBLEM } from '../cli-errors.js';
import { helpAfter } from './common-options.js';

export class LabUnavailableError extends CliError {
  override readonly name = 'LabUnavailableError';
  constructor(detail: string) {
    super('DVS_LAB_UNAVAILABLE', `the lab is not available: ${detail}`, EXIT_PROBLEM);
  }
}

/** A lab's controller and agent sockets, as @dvs/lab's labEndpoints() answers (null: no such lab). */
export interface LabEndpointsAnswer {
  id: string;
  phase: string;
  /** The API URL (Host header, TLS name), the forwarder socket that reaches it, the CA and an admin token file. */
  controller: { url: string; socketPath: string; cacert?: string; tokenFile?: string } | null;
  agents: { host: string; adminSocket: string }[];
}

export interface LabModule {
  createLabCommand?: () => Command;
  labEndpoints?: (id: string, option?: string) => Promise<LabEndpointsAnswer | null>;
}

/** Loads a module by specifier (the dynamic import; tests pass their own). */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

const importModule: ModuleLoader = (specifier) => import(specifier);

export async function loadLab(load: ModuleLoader = importModule): Promise<LabModule> {
  try {
    return (await load('@dvs/lab')) as LabModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ERR_MODULE_NOT_FOUND'
        ? '@dvs/lab is not installed or not built (run npm run build)'
        : `loading @dvs/lab failed: ${(error as Error).message}`;
    throw new LabUnavailableError(why);
  }
}

/** Runs `dvs lab <args…>`; returns the exit code. Commander errors propagate to run-cli's mapping. */
export async function runLab(
  args: string[],
  ctx: CliContext,
  prepare: (cmd: Command) => void,
  load: ModuleLoader = importModule,
): Promise<number> {
  const lab = await loadLab(load);
  if (typeof lab.createLabCommand !== 'function') {
    throw new LabUnavailableError('@dvs/lab does not export createLabCommand(): rebuild it (npm run build)');
  }
  const cmd = lab.createLabCommand();
  cmd.name('dvs lab');
  // Subcommands copied their settings when the lab created them: apply ours to each.
  const prepareAll = (c: Command) => {
    prepare(c);
    c.commands.forEach(prepareAll);
  };
  prepareAll(cmd);
  ctx.exitCode = 0;
  const before = process.exitCode;
  process.exitCode = 0;
  await cmd.parseAsync(args, { from: 'user' });
  // Lab actions report their status through process.exitCode.
  const code = typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
  process.exitCode = before;
  return Math.max(ctx.exitCode, code);
}

/** The placeholder shown in `dvs --help` and docs/cli.md; run-cli dispatches `dvs lab` before commander sees it. */
export function addLabCommand(program: Command): void {
  const lab = program
    .command('lab')
    .description('network-namespace lab: simulated hosts and VMs on this machine (commands from @dvs/lab)')
    .argument('[args...]', 'lab command and its options; see dvs lab --help')
    .helpOption(false)
    .allowUnknownOption();
  helpAfter(lab, ['dvs lab --help']);
}
