/**
 * `dvs config …`: named contexts in the CLI's config file (config/cli-config.ts),
 * so an operator types `dvs status`, not the controller URL and credentials
 * every time. Only the file changes; nothing is sent anywhere.
 */
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import {
  CONTEXT_KEYS,
  configPath,
  isContextName,
  loadCliConfig,
  saveCliConfig,
  type ContextKey,
  type NamedContext,
} from '../config/cli-config.js';
import { renderTable } from '../render/table.js';
import { printJson } from '../view-runner.js';
import { helpAfter, withJson } from './common-options.js';

function contextName(text: string): string {
  if (!isContextName(text)) {
    throw new UsageError(`context name "${text}" must be letters, digits, ".", "_", "-" (up to 63)`);
  }
  return text;
}

/** camelCase commander option → context key. */
const OPTION_OF: Record<ContextKey, string> = {
  controller: 'controller',
  cacert: 'cacert',
  cert: 'cert',
  key: 'key',
  token: 'token',
  'token-file': 'tokenFile',
  socket: 'socket',
};

export function addConfigCommands(program: Command, ctx: CliContext): void {
  const config = program
    .command('config')
    .description(`named contexts (controller URL and credentials) in the CLI's config file (env DVS_CONFIG)`);
  helpAfter(config, [
    'dvs config set-context prod --controller https://ctl.example.net:7400 --cacert /etc/dvs/pki/api-ca.pem --token-file ~/.dvs-token',
    'dvs config use-context prod',
    'dvs config get-contexts',
  ]);
  const file = (): string => configPath(ctx.io.env);

  const get = config.command('get-contexts').description('list the contexts; * marks the current one');
  withJson(get);
  helpAfter(
    get,
    ['dvs config get-contexts', 'dvs config get-contexts --json'],
    `{ "file", "current-context", "contexts": [ { "name", ${CONTEXT_KEYS.map((k) => `"${k}"?`).join(', ')} } ] }
A token, when a context holds one, is shown as "***".`,
  );
  get.action((opts: { json?: boolean }) => {
    const path = file();
    const c = loadCliConfig(path);
    const contexts = c.contexts.map((x) => (x.token === undefined ? x : { ...x, token: '***' }));
    if (opts.json) {
      printJson(ctx, { file: path, 'current-context': c['current-context'] ?? null, contexts });
      return;
    }
    if (contexts.length === 0) {
      ctx.io.stdout(`no contexts in ${path}; add one with dvs config set-context\n`);
      return;
    }
    const auth = (x: NamedContext): string =>
      [x.token || x['token-file'] ? 'token' : '', x.cert ? 'certificate' : ''].filter(Boolean).join('+') || '-';
    ctx.io.stdout(
      renderTable(
        [
          { header: 'CURRENT', value: (x: NamedContext) => (x.name === c['current-context'] ? '*' : '') },
          { header: 'NAME', value: (x: NamedContext) => x.name },
          { header: 'CONTROLLER', value: (x: NamedContext) => x.controller ?? '-' },
          { header: 'AUTH', value: auth },
          { header: 'CA', value: (x: NamedContext) => x.cacert ?? '-' },
        ],
        contexts,
      ) + '\n',
    );
  });

  const current = config.command('current-context').description('print the current context');
  helpAfter(current, ['dvs config current-context']);
  current.action(() => {
    const c = loadCliConfig(file());
    if (c['current-context'] === undefined)
      throw new UsageError(`no current context in ${file()}; see dvs config use-context`);
    ctx.io.stdout(`${c['current-context']}\n`);
  });

  const use = config
    .command('use-context')
    .description('make a context the current one')
    .argument('<name>', 'context name', contextName);
  helpAfter(use, ['dvs config use-context prod']);
  use.action((name: string) => {
    const path = file();
    const c = loadCliConfig(path);
    if (!c.contexts.some((x) => x.name === name)) {
      throw new UsageError(`context "${name}" is not in ${path}; add it with dvs config set-context ${name} …`);
    }
    saveCliConfig(path, { ...c, 'current-context': name });
    ctx.io.stdout(`current context: ${name}\n`);
  });

  const set = config
    .command('set-context')
    .description('create a context, or change the given settings of one (the file is written mode 0600)')
    .argument('<name>', 'context name', contextName)
    .option('--controller <url>', 'controller API URL')
    .option('--cacert <file>', "CA certificate (PEM) that signed the controller's")
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', "the client certificate's key (PEM)")
    .option('--token <token>', 'bearer token, kept in the file')
    .option('--token-file <file>', 'file holding the bearer token')
    .option('--socket <path>', "this host's agent admin socket")
    .addOption(new Option('--unset <setting>', 'remove a setting').choices(CONTEXT_KEYS))
    .option('--use', 'also make it the current context');
  helpAfter(set, [
    'dvs config set-context lab --controller https://198.51.100.1:7400 --cacert /run/dvs/lab/api-ca.pem --token-file /run/dvs/lab/admin.token --use',
    'dvs config set-context prod --unset token',
  ]);
  set.action((name: string, opts: Record<string, string | boolean | undefined>) => {
    const path = file();
    const c = loadCliConfig(path);
    const existing = c.contexts.find((x) => x.name === name);
    const next: NamedContext = { ...(existing ?? { name }) };
    for (const key of CONTEXT_KEYS) {
      const value = opts[OPTION_OF[key]];
      if (typeof value === 'string') next[key] = value;
    }
    if (typeof opts.unset === 'string') delete next[opts.unset as ContextKey];
    if (next.controller !== undefined) {
      try {
        const u = new URL(next.controller);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      } catch {
        throw new UsageError(`--controller "${next.controller}" must be an http:// or https:// URL`);
      }
    }
    const contexts = existing ? c.contexts.map((x) => (x.name === name ? next : x)) : [...c.contexts, next];
    saveCliConfig(path, { ...c, ...(opts.use === true ? { 'current-context': name } : {}), contexts });
    ctx.io.stdout(
      `${existing ? 'changed' : 'created'} context ${name} in ${path}${opts.use === true ? ' (current)' : ''}\n`,
    );
  });

  const del = config
    .command('delete-context')
    .description('remove a context')
    .argument('<name>', 'context name', contextName);
  helpAfter(del, ['dvs config delete-context old-lab']);
  del.action((name: string) => {
    const path = file();
    const c = loadCliConfig(path);
    if (!c.contexts.some((x) => x.name === name)) throw new UsageError(`context "${name}" is not in ${path}`);
    const { 'current-context': cur, ...rest } = c;
    saveCliConfig(path, {
      ...rest,
      ...(cur !== undefined && cur !== name ? { 'current-context': cur } : {}),
      contexts: c.contexts.filter((x) => x.name !== name),
    });
    ctx.io.stdout(`deleted context ${name}\n`);
  });
}
