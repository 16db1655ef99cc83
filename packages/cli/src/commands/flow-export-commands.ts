/**
 * Flow export on this host, through the local agent's admin socket:
 * `dvs sflow show|set`, `dvs ipfix show|set` and `dvs flows` (top talkers
 * from the agent's flow cache). The agent checks every value (and resolves
 * the collectors) before it changes anything; its errors name the field.
 */
import { Option, type Command } from 'commander';
import type { CliContext, SocketOption } from '../cli-context.js';
import type { ViewOptions } from '../view-runner.js';
import { parseVni } from '../validate.js';
import { agentCall, agentView } from './agent-commands.js';
import { helpAfter, withJson, withSocket, withWatch } from './common-options.js';

type Opts = ViewOptions & SocketOption;

const SFLOW_JSON =
  '{ "settings": { "collectors": [{ "host", "port" }], "sampling", "pollingS", "headerBytes" } | null,\n' +
  '  "collectors": [{ "host", "port", "address", "family" }],\n' +
  '  "counters": { "datagrams", "flowSamples", "counterSamples", "sampleDrops", "bytes", "sendErrors", "lastError" } | null }';
const IPFIX_JSON =
  '{ "settings": { "collectors": [{ "host", "port" }], "activeTimeoutS", "idleTimeoutS", "templateRefreshS", "cacheSize", "observationDomain" } | null,\n' +
  '  "collectors": [{ "host", "port", "address", "family" }],\n' +
  '  "counters": { "messages", "records", "templates", "flows", "cacheFull", "cacheFullPackets", "cacheFullOctets", "datagrams", "bytes", "sendErrors", "lastError" } | null }';
const FLOWS_JSON =
  '[ { "vni", "protocol", "src", "dst", "srcPort", "dstPort", "packets", "octets", "startMs", "lastMs",\n' +
  '    "ingress": { "kind": "port", "port" } | { "kind": "vtep", "vtep" } | { "kind": "flood" }, "egress": (the same) } ]';

/** `--name value` options as the agent's key=value words. */
function words(opts: Record<string, unknown>, keys: Record<string, string>): string[] {
  return Object.entries(keys).flatMap(([option, word]) =>
    opts[option] === undefined ? [] : [`${word}=${String(opts[option])}`],
  );
}

export function addFlowExportCommands(program: Command, ctx: CliContext): void {
  const sflow = program
    .command('sflow')
    .description("sFlow v5 export of this host's agent: 1-in-N packet samples per port and port counters");
  helpAfter(sflow, ['dvs sflow show', 'dvs sflow set 192.0.2.50 --sampling 1000', 'dvs sflow set off']);
  const sflowShow = sflow.command('show').description('collectors, sampling, datagrams and samples sent, errors');
  withWatch(withJson(withSocket(sflowShow)));
  helpAfter(sflowShow, ['dvs sflow show', 'dvs sflow show --json'], SFLOW_JSON);
  sflowShow.action(async (opts: Opts) => agentView(ctx, opts, 'sflow/show', []));
  const sflowSet = sflow
    .command('set')
    .description('send sFlow to these collectors (UDP 6343 unless a port is given), or turn it off')
    .argument('<collectors>', 'host[:port][,host[:port]…], or off')
    .addOption(new Option('--sampling <n>', '1-in-N packet sampling per port (default 1000)'))
    .addOption(new Option('--polling <seconds>', 'port counters every this many seconds, 0: none (default 20)'))
    .addOption(new Option('--header <bytes>', 'bytes of each sampled frame sent (default 128)'));
  withJson(withSocket(sflowSet));
  helpAfter(
    sflowSet,
    ['dvs sflow set 192.0.2.50', 'dvs sflow set 192.0.2.50:6343,collector.example --sampling 512', 'dvs sflow set off'],
    SFLOW_JSON,
  );
  sflowSet.action(async (collectors: string, opts: Opts & Record<string, unknown>) =>
    agentCall(ctx, opts, 'sflow/set', [
      collectors,
      ...words(opts, { sampling: 'sampling', polling: 'polling', header: 'header' }),
    ]),
  );

  const ipfix = program
    .command('ipfix')
    .description(
      "IPFIX (RFC 7011) flow records of this host's agent: inner 5-tuple, VNI, ports or VTEPs, packets, bytes",
    );
  helpAfter(ipfix, ['dvs ipfix show', 'dvs ipfix set 192.0.2.50', 'dvs ipfix set cache-only', 'dvs ipfix set off']);
  const ipfixShow = ipfix
    .command('show')
    .description('collectors, timeouts, flows cached, records sent, cache-full drops, errors');
  withWatch(withJson(withSocket(ipfixShow)));
  helpAfter(ipfixShow, ['dvs ipfix show', 'dvs ipfix show --json'], IPFIX_JSON);
  ipfixShow.action(async (opts: Opts) => agentView(ctx, opts, 'ipfix/show', []));
  const ipfixSet = ipfix
    .command('set')
    .description(
      'export flow records to these collectors (UDP 4739 unless a port is given); cache-only keeps the flow cache for dvs flows; off',
    )
    .argument('<collectors>', 'host[:port][,host[:port]…], cache-only, or off')
    .addOption(
      new Option('--active <seconds>', 'a flow active this long is reported and starts a new record (default 60)'),
    )
    .addOption(new Option('--idle <seconds>', 'a flow idle this long ends (default 15)'))
    .addOption(new Option('--template <seconds>', 'templates sent again this often (default 60)'))
    .addOption(new Option('--cache <flows>', 'flows the cache holds; beyond: counted, not recorded (default 65536)'))
    .addOption(new Option('--domain <id>', 'IPFIX observation domain (default 1)'));
  withJson(withSocket(ipfixSet));
  helpAfter(
    ipfixSet,
    ['dvs ipfix set 192.0.2.50', 'dvs ipfix set 192.0.2.50:4739 --idle 5 --active 30', 'dvs ipfix set off'],
    IPFIX_JSON,
  );
  ipfixSet.action(async (collectors: string, opts: Opts & Record<string, unknown>) =>
    agentCall(ctx, opts, 'ipfix/set', [
      collectors,
      ...words(opts, { active: 'active', idle: 'idle', template: 'template', cache: 'cache', domain: 'domain' }),
    ]),
  );

  const flows = program
    .command('flows')
    .description(
      "top talkers on this host: the flows in its agent's flow cache by bytes, without a collector (needs dvs ipfix set …, cache-only will do)",
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
