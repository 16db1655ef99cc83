/**
 * `dvs trace`: what the data path does with a frame (vni, src, dst) entering
 * at a host. With --agent or --socket, the agent's own data path answers
 * (its `trace` admin command, read from its tables: "data path (agent …)");
 * an agent without that command contributes its FDB (`fdb/show`) and the CLI
 * explains the rest from the controller's tables. Without an agent socket the
 * explanation comes from the controller's tables alone. `source` says which.
 */
import { Option, type Command } from 'commander';
import {
  adminClient,
  agentSocketPath,
  controllerClient,
  type CliContext,
  type ControllerOption,
  type SocketOption,
} from '../cli-context.js';
import { AgentCommandError, EXIT_OK, EXIT_PROBLEM, UsageError } from '../cli-errors.js';
import { explainTrace, renderTrace, type AgentFdbRow, type TraceTables } from '../trace/trace-explain.js';
import { parseHost, parseMac, parseVni } from '../validate.js';
import { printJson } from '../view-runner.js';
import { helpAfter, withController, withJson, withSocket } from './common-options.js';

interface TraceOpts extends ControllerOption, SocketOption {
  vni: number;
  src: string;
  dst: string;
  host?: string;
  port?: string;
  agent?: boolean;
  json?: boolean;
}

async function controllerTables(ctx: CliContext, opts: TraceOpts): Promise<TraceTables> {
  const client = controllerClient(ctx, opts);
  const [networks, fdb, flood, hosts, tunnels] = await Promise.all([
    client.networks(),
    client.fdb({ vni: opts.vni }),
    client.flood(opts.vni),
    client.hosts(),
    client.tunnels(),
  ]);
  return {
    network: networks.find((n) => n.vni === opts.vni) ?? null,
    fdb,
    flood: flood.find((f) => f.vni === opts.vni) ?? null,
    hosts,
    tunnels,
  };
}

export function addTraceCommand(program: Command, ctx: CliContext): void {
  const trace = program
    .command('trace')
    .description(
      "explain the data path's decision for a frame: network, port classification, FDB hit/miss, flood list, encap and peer",
    )
    .addOption(new Option('--vni <vni>', 'VNI of the frame').argParser((v) => parseVni(v)).makeOptionMandatory())
    .addOption(new Option('--src <mac>', 'source MAC').argParser((v) => parseMac(v, '--src')).makeOptionMandatory())
    .addOption(
      new Option('--dst <mac>', 'destination MAC (ff:ff:ff:ff:ff:ff for broadcast)')
        .argParser((v) => parseMac(v, '--dst'))
        .makeOptionMandatory(),
    )
    .option('--host <host>', 'host where the frame enters (default: where the FDB places --src)', parseHost)
    .option('--port <name>', "ingress port on the agent's host (classifies the frame: access VNI or trunk VLAN)")
    .option(
      '--agent',
      "ask this host's agent: its data path's trace (else its FDB with the controller's tables); implied by --socket",
    );
  withJson(withSocket(withController(trace)));
  helpAfter(
    trace,
    [
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst ff:ff:ff:ff:ff:ff --host host-a',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02 --agent --json',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst ff:ff:ff:ff:ff:ff --socket /run/dvs/agent.sock --port tap0',
    ],
    `{ "source", "vni", "src", "dst", "host",
  "steps": [ { "step": "network"|"source"|"ingress"|"classify"|"lookup"|"output", "result" } ],
  "decision": { "action": "deliver-local"|"encap"|"flood"|"drop"|"unknown", "reason",
                "outputs": [ { "kind": "port"|"vtep", "host", "port"?, "vtep"?, "encap"?, "tunnel"? } ] },
  "warnings": [ string ] }
From the agent's data path ("source": "data path (agent <socket>)") the steps are
  "classify"|"network"|"mtu"|"source"|"lookup"|"output", "port" is the ingress port or null,
  "decision" adds "dropReason" (the drop counter) and outputs are
  { "kind": "port", "port", "vlan" } | { "kind": "vtep", "vtep", "address", "udpPort", "encap", "tunnelHeader" }.
"source" says which tables the explanation comes from. Exit 1 when the frame is dropped or cannot be placed.`,
  );
  trace.action(async (opts: TraceOpts) => {
    let agentFdb: AgentFdbRow[] | null = null;
    let source = 'controller tables (an explanation from the cluster view, not a run through the data path)';
    const askAgent = opts.agent === true || opts.socket !== undefined;
    if (opts.port !== undefined && !askAgent)
      throw new UsageError('--port names a port of an agent: add --agent or --socket <path>');
    if (askAgent) {
      const agent = adminClient(ctx, opts);
      try {
        const args = [String(opts.vni), opts.src, opts.dst, ...(opts.port === undefined ? [] : [opts.port])];
        const answer = await agent.call('trace', args).catch((error: unknown) => {
          if (error instanceof AgentCommandError && error.agentCode === 'DVS_UNKNOWN_COMMAND') return null;
          throw error;
        });
        if (answer !== null) {
          const dataPathSource = `data path (agent ${agentSocketPath(ctx, opts)})`;
          const report = answer.data as { decision?: { action?: string } };
          if (opts.json) {
            const version = await agent.call('version').catch(() => null);
            const host = (version?.data as { host?: unknown } | null | undefined)?.host;
            printJson(ctx, {
              source: dataPathSource,
              host: typeof host === 'string' ? host : null,
              ...report,
              warnings: [],
            });
          } else ctx.io.stdout(`source: ${dataPathSource}\n${answer.text.replace(/\n$/, '')}\n`);
          ctx.exitCode = report.decision?.action === 'drop' ? EXIT_PROBLEM : EXIT_OK;
          return;
        }
        if (opts.port !== undefined)
          throw new UsageError('--port needs an agent with the trace command; this agent has none (upgrade it)');
        const fdb = await agent.call('fdb/show', [String(opts.vni)]);
        agentFdb = Array.isArray(fdb.data)
          ? (fdb.data as AgentFdbRow[])
          : (((fdb.data as { entries?: AgentFdbRow[] })?.entries ?? []) as AgentFdbRow[]);
        source = `agent FDB (fdb/show via ${agentSocketPath(ctx, opts)}; the agent has no trace command) + controller tables`;
        // The frame enters at this agent's host unless --host says otherwise.
        const version = await agent.call('version').catch(() => null);
        const agentHost = (version?.data as { host?: unknown } | null | undefined)?.host;
        if (opts.host === undefined && typeof agentHost === 'string') opts.host = agentHost;
      } finally {
        agent.close();
      }
    }
    const tables = { ...(await controllerTables(ctx, opts)), agentFdb };
    const result = explainTrace({ vni: opts.vni, src: opts.src, dst: opts.dst, host: opts.host }, tables, source);
    if (opts.json) printJson(ctx, result);
    else ctx.io.stdout(renderTrace(result) + '\n');
    ctx.exitCode = result.decision.action === 'drop' || result.decision.action === 'unknown' ? EXIT_PROBLEM : EXIT_OK;
  });
}
