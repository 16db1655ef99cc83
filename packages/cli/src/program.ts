/**
 * The `dvs` commander program: every command, its options, help and
 * examples, defined once. The binary, the tests and the docs/cli.md generator
 * all build it here.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliContext } from './cli-context.js';
import { addAgentCommands } from './commands/agent-commands.js';
import { addFlowExportCommands } from './commands/flow-export-commands.js';
import { addAuditCommand } from './commands/audit-command.js';
import { addTableAuditCommand } from './commands/table-audit-command.js';
import { addClusterCommands } from './commands/cluster-commands.js';
import { addConfigCommands } from './commands/config-commands.js';
import { addFdbCommands } from './commands/fdb-commands.js';
import { addLabCommand } from './commands/lab-command.js';
import { addNetworkCommands } from './commands/network-commands.js';
import { addTraceCommand } from './commands/trace-command.js';
import { resolveLabTarget } from './lab-target.js';

export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface ProgramOptions {
  /** Fixed help width (docs generation); default: the terminal's, else 80. */
  helpWidth?: number;
}

/** Settings every command must have; commander copies them to subcommands at creation, so apply them first. */
export function prepareCommand(cmd: Command, ctx: CliContext, options: ProgramOptions = {}): Command {
  return cmd
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
      outputError: (s, write) => write(`dvs: ${s.replace(/^error: /, '')}`),
      getOutHelpWidth: () => options.helpWidth ?? 80,
      getErrHelpWidth: () => options.helpWidth ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage and examples)');
}

export function buildProgram(ctx: CliContext, options: ProgramOptions = {}): Command {
  const program = prepareCommand(new Command('dvs'), ctx, options)
    .description(
      'dvs: the operator CLI of the dvs distributed virtual switch.\n' +
        'Cluster views come from the controller (--controller / DVS_CONTROLLER, or a context: dvs config),\n' +
        'authenticated by --token / --cert (docs/security.md); host views from the\n' +
        "local agent's admin socket (--socket / DVS_AGENT_SOCKET). --lab points both at a lab on this machine.\n" +
        'Exit status: 0 ok, 1 a problem was found (or a component is unreachable), 2 usage error.',
    )
    .version(cliVersion(), '-V, --version', 'print the dvs version')
    .addOption(
      new Option(
        '--lab <id[/host]>',
        "use lab <id>'s controller and the agent of its first dvs host (or <host>); --controller/--socket still win",
      ).env('DVS_LAB'),
    )
    .helpCommand('help [command]', 'help for a command')
    .hook('preAction', async (root) => {
      const spec = (root.opts() as { lab?: string }).lab;
      if (spec !== undefined) ctx.lab = await resolveLabTarget(spec);
    });
  program.addHelpText(
    'after',
    [
      '',
      'Start here:',
      '  $ dvs status                        is anything wrong? (problems first)',
      '  $ dvs tunnels                       which tunnel is down, and why',
      '  $ dvs fdb --mac 02:00:00:00:00:01   where is this MAC',
      '  $ dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02',
      '  $ dvs --lab main status             the same views of a lab (dvs lab up) on this machine',
    ].join('\n'),
  );
  addClusterCommands(program, ctx);
  addNetworkCommands(program, ctx);
  addFdbCommands(program, ctx);
  addTraceCommand(program, ctx);
  addTableAuditCommand(program, ctx);
  addAuditCommand(program, ctx);
  addAgentCommands(program, ctx);
  addFlowExportCommands(program, ctx);
  addConfigCommands(program, ctx);
  addLabCommand(program);
  return program;
}
