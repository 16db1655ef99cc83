/**
 * `dvs trace`: what a host's data path does with a frame (vni, src, dst),
 * asked of that host's agent (its `trace` admin command). The agent runs the
 * frame through its real pipeline in a dry run — nothing learned, counted or
 * sent — and reports each step as the pipeline took it, the way OVS's
 * ofproto/trace runs the real translation. The CLI adds nothing of its own:
 * there is no second copy of the forwarding rules to disagree with the switch.
 */
import { Option, type Command } from 'commander';
import { adminClient, agentSocketPath, type CliContext, type SocketOption } from '../cli-context.js';
import { AgentCommandError, EXIT_OK, EXIT_PROBLEM, UsageError } from '../cli-errors.js';
import { parseMac, parseVni } from '../validate.js';
import { printJson } from '../view-runner.js';
import { helpAfter, withJson, withSocket } from './common-options.js';
import { describeReply, TRACE_FIELDS } from '../render/agent-reply-fields.js';

interface TraceOpts extends SocketOption {
  vni: number;
  src: string;
  dst: string;
  port?: string;
  length?: number;
  json?: boolean;
}

function parseLength(text: string): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 14)
    throw new UsageError(`--length must be a frame length in bytes (>= 14), got "${text}"`);
  return n;
}

export function addTraceCommand(program: Command, ctx: CliContext): void {
  const trace = program
    .command('trace')
    .description(
      "run a frame through a host's data path in a dry run (nothing learned, counted or sent) and show each step: port classification, network, MTU, learning, FDB lookup, output ports, tunnel headers",
    )
    .addOption(new Option('--vni <vni>', 'VNI of the frame').argParser((v) => parseVni(v)).makeOptionMandatory())
    .addOption(new Option('--src <mac>', 'source MAC').argParser((v) => parseMac(v, '--src')).makeOptionMandatory())
    .addOption(
      new Option('--dst <mac>', 'destination MAC (ff:ff:ff:ff:ff:ff for broadcast)')
        .argParser((v) => parseMac(v, '--dst'))
        .makeOptionMandatory(),
    )
    .option(
      '--port <name>',
      'ingress port (access: its VNI; trunk: tagged with the VLAN of --vni); default: enters the VNI directly',
    )
    .addOption(
      new Option('--length <bytes>', 'frame length without a tag, default 64 (shows the MTU check)').argParser(
        parseLength,
      ),
    );
  withJson(withSocket(trace));
  helpAfter(
    trace,
    [
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst ff:ff:ff:ff:ff:ff --port tap0',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02 --length 1500 --json',
      'dvs trace --vni 100 --src 02:00:00:00:00:01 --dst 02:00:00:00:00:02 --socket /run/dvs-lab/demo/h1.sock',
    ],
    `{ "source": "data path (agent <socket>)", "host": the agent's host, and the agent's trace data:
${describeReply(TRACE_FIELDS)}
Exit 1 when the frame is dropped.`,
  );
  trace.action(async (opts: TraceOpts) => {
    const agent = adminClient(ctx, opts);
    const source = `data path (agent ${agentSocketPath(ctx, opts)})`;
    try {
      const args = [String(opts.vni), opts.src, opts.dst];
      if (opts.port !== undefined || opts.length !== undefined) args.push(opts.port ?? '-');
      if (opts.length !== undefined) args.push(String(opts.length));
      const answer = await agent.call('trace', args).catch((error: unknown) => {
        if (error instanceof AgentCommandError && error.agentCode === 'DVS_UNKNOWN_COMMAND') {
          throw new AgentCommandError(
            'DVS_AGENT_TOO_OLD',
            'this agent has no trace command: upgrade dvs-agent on that host',
          );
        }
        throw error;
      });
      const report = answer.data;
      if (opts.json) {
        const version = await agent.call('version').catch(() => null);
        printJson(ctx, { source, host: version?.data.host ?? null, ...report });
      } else ctx.io.stdout(`source: ${source}\n${answer.text.replace(/\n$/, '')}\n`);
      ctx.exitCode = report.decision.action === 'drop' ? EXIT_PROBLEM : EXIT_OK;
    } finally {
      agent.close();
    }
  });
}
