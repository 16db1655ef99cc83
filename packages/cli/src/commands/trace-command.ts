/**
 * `dvs trace`: what the data path does with a frame (vni, src, dst) entering
 * at a host. With --agent, the local agent is asked first (`trace` admin
 * command); an agent without one contributes its FDB (`fdb/show`) and the CLI
 * explains the rest from the controller's tables, saying so in `source`.
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
import { AgentCommandError, EXIT_OK, EXIT_PROBLEM } from '../cli-errors.js';
import { explainTrace, renderTrace, type AgentFdbRow, type TraceTables } from '../trace/trace-explain.js';
import { parseHost, parseMac, parseVni } from '../validate.js';
import { printJson } from '../view-runner.js';
import { helpAfter, withController, withJson, withSocket } from './common-options.js';

interface TraceOpts extends ControllerOption, SocketOption {
  vni: number;
  src: string;
  dst: string;
  host?: string;
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
    .option('--agent', "ask this host's agent (its trace command, else its FDB) in addition to the controller");
  withJson(withSocket(withController(trace)));
  helpAfter(
    trace,
    [
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst ff:ff:ff:ff:ff:ff --host host-a',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02 --agent --json',
    ],
    `{ "source", "vni", "src", "dst", "host",
  "steps": [ { "step": "network"|"source"|"ingress"|"classify"|"lookup"|"output", "result" } ],
  "decision": { "action": "deliver-local"|"encap"|"flood"|"drop"|"unknown", "reason",
                "outputs": [ { "kind": "port"|"vtep", "host", "port"?, "vtep"?, "encap"?, "tunnel"? } ] },
  "warnings": [ string ] }
"source" says which tables the explanation comes from. Exit 1 when the frame is dropped or cannot be placed.`,
  );
  trace.action(async (opts: TraceOpts) => {
    let agentFdb: AgentFdbRow[] | null = null;
    let source = 'controller tables (an explanation from the cluster view, not a run through the data path)';
    if (opts.agent) {
      const agent = adminClient(ctx, opts);
      try {
        const answer = await agent.call('trace', [String(opts.vni), opts.src, opts.dst]).catch((error: unknown) => {
          if (error instanceof AgentCommandError && error.agentCode === 'DVS_UNKNOWN_COMMAND') return null;
          throw error;
        });
        if (answer !== null) {
          if (opts.json)
            printJson(ctx, { source: `agent data path (${agentSocketPath(ctx, opts)})`, agent: answer.data });
          else ctx.io.stdout(`source: agent data path (${agentSocketPath(ctx, opts)})\n${answer.text}\n`);
          ctx.exitCode = EXIT_OK;
          return;
        }
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
