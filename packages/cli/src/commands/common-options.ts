/**
 * Options shared by many commands, defined once so help texts and docs/cli.md
 * say the same thing everywhere.
 */
import { Option, type Command } from 'commander';
import { ADMIN_SOCKET_DEFAULT_PATH } from '@dvs/wire';
import { DEFAULT_CONTROLLER_URL } from '@dvs/wire';
import { parseSeconds } from '../validate.js';

export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print JSON (stable shape, documented below) instead of a table');
}

/** Where the controller is and how to prove who we are; each falls back to its env variable, then the context. */
export function withController(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--controller <url>',
        `controller API URL (env DVS_CONTROLLER, else the context's, else ${DEFAULT_CONTROLLER_URL})`,
      ),
    )
    .addOption(new Option('--context <name>', 'use this context of the config file (env DVS_CONTEXT; see dvs config)'))
    .addOption(new Option('--cacert <file>', "CA certificate (PEM) that signed the controller's (env DVS_CACERT)"))
    .addOption(new Option('--cert <file>', 'client certificate (PEM) to authenticate with (env DVS_CERT)'))
    .addOption(new Option('--key <file>', "the client certificate's key (PEM) (env DVS_KEY)"))
    .addOption(new Option('--token <token>', 'bearer token (env DVS_TOKEN); visible in ps, prefer --token-file'))
    .addOption(new Option('--token-file <file>', 'file holding the bearer token (env DVS_TOKEN_FILE)'));
}

export function withSocket(cmd: Command): Command {
  return cmd.addOption(
    new Option('--socket <path>', `agent admin socket (env DVS_AGENT_SOCKET, default ${ADMIN_SOCKET_DEFAULT_PATH})`),
  );
}

export function withWatch(cmd: Command): Command {
  return cmd
    .option('--watch', 'redraw every --interval seconds until Ctrl-C (with --json: one JSON document per line)')
    .addOption(
      new Option('--interval <seconds>', 'refresh period for --watch').default(2).argParser((v) => parseSeconds(v)),
    );
}

/** Help text block: examples, then the JSON shape. */
export function helpAfter(cmd: Command, examples: readonly string[], json?: string): Command {
  const parts = ['', 'Examples:', ...examples.map((e) => `  $ ${e}`)];
  if (json) parts.push('', 'JSON (--json):', ...json.split('\n').map((l) => `  ${l}`));
  return cmd.addHelpText('after', parts.join('\n'));
}
