/**
 * Flow export: `dvs sflow show|set|clear`, `dvs ipfix show|set|clear` and
 * `dvs flows` (top talkers from an agent's flow cache).
 *
 * sflow and ipfix manage the cluster's settings through the controller
 * (every agent without a setting of its own exports with them). With
 * `--local` (or `--socket`) they talk to this host's agent instead: its own
 * setting, which overrides the cluster's on this host, and `show` says which
 * is in force there. The controller and the agent check every value with the
 * same rules (and resolve the collectors) before anything changes; their
 * errors name the field.
 */
import { Option, type Command } from 'commander';
import { collectorText, type FlowExporterName, type IpfixRecord, type SflowRecord } from '@dvs/wire';
import { controllerClient, type CliContext, type ControllerOption, type SocketOption } from '../cli-context.js';
import { printJson, runView, type ViewOptions } from '../view-runner.js';
import { parseVni } from '../validate.js';
import { agentCall, agentView } from './agent-commands.js';
import { helpAfter, withController, withJson, withSocket, withWatch } from './common-options.js';

type Opts = ViewOptions & SocketOption & ControllerOption & { local?: boolean };

const SOURCE_JSON =
  '  "source": "host"|"cluster"|null, "host": (settings)|"off"|null, "cluster": (settings)|null, "clusterProblem": string|null';
const SFLOW_SETTINGS_JSON = '{ "collectors": [{ "host", "port" }], "sampling", "pollingS", "headerBytes" }';
const IPFIX_SETTINGS_JSON =
  '{ "collectors": [{ "host", "port" }], "activeTimeoutS", "idleTimeoutS", "templateRefreshS", "cacheSize", "observationDomain" }';
const SFLOW_LOCAL_JSON =
  `{ "settings": ${SFLOW_SETTINGS_JSON} | null,\n` +
  '  "collectors": [{ "host", "port", "address", "family" }],\n' +
  '  "counters": { "datagrams", "flowSamples", "counterSamples", "sampleDrops", "bytes", "sendErrors", "lastError" } | null,\n' +
  SOURCE_JSON +
  ' }';
const IPFIX_LOCAL_JSON =
  `{ "settings": ${IPFIX_SETTINGS_JSON} | null,\n` +
  '  "collectors": [{ "host", "port", "address", "family" }],\n' +
  '  "counters": { "messages", "records", "templates", "flows", "cacheFull", "cacheFullPackets", "cacheFullOctets", "datagrams", "bytes", "sendErrors", "lastError" } | null,\n' +
  SOURCE_JSON +
  ' }';
const FLOWS_JSON =
  '[ { "vni", "protocol", "src", "dst", "srcPort", "dstPort", "packets", "octets", "startMs", "lastMs",\n' +
  '    "ingress": { "kind": "port", "port" } | { "kind": "vtep", "vtep" } | { "kind": "flood" }, "egress": (the same) } ]';

/** What differs between the two exporters. */
interface ExporterCli {
  name: FlowExporterName;
  title: string;
  settingsJson: string;
  localJson: string;
  /** Option name → [admin-socket word, API field, help]. */
  options: Record<string, [string, string, string]>;
  /** The `<collectors>` words besides host[:port] lists. */
  targets: string;
  examples: { set: string[]; local: string[] };
}

const EXPORTERS: ExporterCli[] = [
  {
    name: 'sflow',
    title: 'sFlow',
    settingsJson: SFLOW_SETTINGS_JSON,
    localJson: SFLOW_LOCAL_JSON,
    options: {
      sampling: ['sampling', 'sampling', '1-in-N packet sampling per port (default 1000)'],
      polling: ['polling', 'pollingS', 'port counters every this many seconds, 0: none (default 20)'],
      header: ['header', 'headerBytes', 'bytes of each sampled frame sent (default 128)'],
    },
    targets: 'host[:port][,host[:port]…] (UDP 6343 unless a port is given), or off',
    examples: {
      set: ['dvs sflow set 192.0.2.50', 'dvs sflow set 192.0.2.50:6343,collector.example --sampling 512'],
      local: ['dvs sflow set 192.0.2.60 --sampling 64 --local', 'dvs sflow set off --local'],
    },
  },
  {
    name: 'ipfix',
    title: 'IPFIX',
    settingsJson: IPFIX_SETTINGS_JSON,
    localJson: IPFIX_LOCAL_JSON,
    options: {
      active: ['active', 'activeTimeoutS', 'a flow active this long is reported and starts a new record (default 60)'],
      idle: ['idle', 'idleTimeoutS', 'a flow idle this long ends (default 15)'],
      template: ['template', 'templateRefreshS', 'templates sent again this often (default 60)'],
      cache: ['cache', 'cacheSize', 'flows the cache holds; beyond: counted, not recorded (default 65536)'],
      domain: ['domain', 'observationDomain', 'IPFIX observation domain (default 1)'],
    },
    targets:
      'host[:port][,host[:port]…] (UDP 4739 unless a port is given), cache-only (the flow cache for dvs flows, no export), or off',
    examples: {
      set: [
        'dvs ipfix set 192.0.2.50',
        'dvs ipfix set 192.0.2.50:4739 --idle 5 --active 30',
        'dvs ipfix set cache-only',
      ],
      local: ['dvs ipfix set cache-only --local', 'dvs ipfix set off --local'],
    },
  },
];

const local = (opts: Opts): boolean => opts.local === true || opts.socket !== undefined;

function withLocal(cmd: Command): Command {
  return withSocket(
    withController(
      cmd.option(
        '--local',
        "this host's own setting, through its agent's admin socket, instead of the cluster's; --socket implies it",
      ),
    ),
  );
}

function renderCluster(e: ExporterCli, record: SflowRecord | IpfixRecord | null): string {
  if (record === null)
    return `cluster ${e.title}: none (only hosts with a setting of their own export; dvs ${e.name} show --local on a host)\n`;
  const to =
    record.collectors.length === 0 ? 'no collector (flow cache only)' : record.collectors.map(collectorText).join(', ');
  const settings =
    'sampling' in record
      ? `sampling 1-in-${record.sampling}, counters every ${record.pollingS} s, header ${record.headerBytes} bytes`
      : `active ${record.activeTimeoutS} s, idle ${record.idleTimeoutS} s, templates every ${record.templateRefreshS} s, cache ${record.cacheSize} flows, domain ${record.observationDomain}`;
  return (
    `cluster ${e.title} to ${to}: ${settings}\n` +
    `  every agent without a setting of its own exports with it (dvs ${e.name} show --local: what is in force on a host)\n`
  );
}

/** The API body of `set`: collectors and the numeric options given (numbers as numbers; the controller checks them). */
function apiBody(e: ExporterCli, target: string, opts: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { collectors: target === 'cache-only' ? [] : target.split(',') };
  for (const [option, [, field]] of Object.entries(e.options)) {
    const v = opts[option];
    if (v !== undefined) body[field] = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  }
  return body;
}

function addExporter(program: Command, ctx: CliContext, e: ExporterCli): void {
  const top = program
    .command(e.name)
    .description(
      e.name === 'sflow'
        ? "sFlow v5 export (1-in-N packet samples per port, port counters): the cluster's settings, or with --local this host's own"
        : "IPFIX (RFC 7011) flow records (inner 5-tuple, VNI, ports or VTEPs, packets, bytes): the cluster's settings, or with --local this host's own",
    );
  helpAfter(top, [
    `dvs ${e.name} show`,
    ...e.examples.set.slice(0, 1),
    `dvs ${e.name} show --local`,
    `dvs ${e.name} clear`,
  ]);

  const show = top
    .command('show')
    .description(
      `the cluster's ${e.title} settings; --local: what is in force on this host, from where (its own or the cluster's), and what it sent`,
    );
  withWatch(withJson(withLocal(show)));
  helpAfter(
    show,
    [`dvs ${e.name} show`, `dvs ${e.name} show --json`, `dvs ${e.name} show --local`],
    `{ "${e.name}": ${e.settingsJson.replace(/ }$/, ', "updatedAt" }')} | null }\n--local: ${e.localJson}`,
  );
  show.action(async (opts: Opts) => {
    if (local(opts)) return agentView(ctx, opts, `${e.name}/show`, []);
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const record = await client.flowExport(e.name);
      return { text: renderCluster(e, record), json: { [e.name]: record }, problems: 0 };
    });
  });

  const set = top
    .command('set')
    .description(
      `set the cluster's ${e.title} (fields left out take their defaults; off: clear it); --local: this host's own, over the cluster's (off: none here)`,
    )
    .argument('<collectors>', e.targets);
  for (const [option, [, , help]] of Object.entries(e.options)) {
    const arg =
      option === 'header'
        ? 'bytes'
        : option === 'cache'
          ? 'flows'
          : option === 'domain'
            ? 'id'
            : option === 'sampling'
              ? 'n'
              : 'seconds';
    set.addOption(new Option(`--${option} <${arg}>`, help));
  }
  withJson(withLocal(set));
  helpAfter(
    set,
    [...e.examples.set, ...e.examples.local],
    `{ "${e.name}": ${e.settingsJson.replace(/ }$/, ', "updatedAt" }')} }\n--local: ${e.localJson}`,
  );
  set.action(async (target: string, opts: Opts & Record<string, unknown>) => {
    if (local(opts)) {
      const words = Object.entries(e.options).flatMap(([option, [word]]) =>
        opts[option] === undefined ? [] : [`${word}=${String(opts[option])}`],
      );
      return agentCall(ctx, opts, `${e.name}/set`, [target, ...words]);
    }
    if (target === 'off') return clearCluster(ctx, e, opts);
    const record = await controllerClient(ctx, opts).setFlowExport(e.name, apiBody(e, target, opts));
    if (opts.json) printJson(ctx, { [e.name]: record });
    else ctx.io.stdout(renderCluster(e, record));
  });

  const clear = top
    .command('clear')
    .description(
      `clear the cluster's ${e.title}: agents without a setting of their own stop exporting; --local: drop this host's own setting, the cluster's applies again`,
    );
  withJson(withLocal(clear));
  helpAfter(
    clear,
    [`dvs ${e.name} clear`, `dvs ${e.name} clear --local`],
    `{ "deleted": { "exporter": "${e.name}" } }\n--local: ${e.localJson}`,
  );
  clear.action(async (opts: Opts) => {
    if (local(opts)) return agentCall(ctx, opts, `${e.name}/clear`, []);
    await clearCluster(ctx, e, opts);
  });
}

async function clearCluster(ctx: CliContext, e: ExporterCli, opts: Opts): Promise<void> {
  const deleted = await controllerClient(ctx, opts).clearFlowExport(e.name);
  if (opts.json) printJson(ctx, { deleted });
  else ctx.io.stdout(`cluster ${e.title} cleared: agents without a setting of their own stop exporting\n`);
}

export function addFlowExportCommands(program: Command, ctx: CliContext): void {
  for (const e of EXPORTERS) addExporter(program, ctx, e);

  const flows = program
    .command('flows')
    .description(
      "top talkers on this host: the flows in its agent's flow cache by bytes, without a collector (needs IPFIX on there, cache-only will do)",
    )
    .addOption(new Option('--vni <vni>', 'only this VNI').argParser((v) => String(parseVni(v))))
    .addOption(new Option('--top <n>', 'how many flows (default 10)'));
  withWatch(withJson(withSocket(flows)));
  helpAfter(flows, ['dvs flows --vni 100', 'dvs flows --top 20 --watch', 'dvs flows --json'], FLOWS_JSON);
  flows.action(async (opts: Opts & { vni?: string; top?: string }) =>
    agentView(ctx, opts, 'flows/show', [
      ...(opts.vni === undefined ? [] : [opts.vni]),
      ...(opts.top === undefined ? [] : [`top=${opts.top}`]),
    ]),
  );
}
