/**
 * Host views through the local agent's admin socket: `dvs agent …`. The agent
 * renders both forms itself (text for people, data for --json); the CLI adds
 * --watch, exit codes and errors that say what to do.
 */
import type { Command } from 'commander';
import { adminClient, type CliContext, type SocketOption } from '../cli-context.js';
import { runView, type ViewOptions } from '../view-runner.js';
import { parseVni } from '../validate.js';
import { helpAfter, withJson, withSocket, withWatch } from './common-options.js';

type Opts = ViewOptions & SocketOption;

/** Down tunnels in a tunnels/show answer ({ peers: [{ state }] }); 0 for any other shape. */
function downPeers(data: unknown): number {
  const peers = (data as { peers?: unknown } | null)?.peers;
  return Array.isArray(peers) ? peers.filter((p) => (p as { state?: unknown })?.state === 'down').length : 0;
}

async function agentView(
  ctx: CliContext,
  opts: Opts,
  command: string,
  args: readonly string[],
  problemsOf: (data: unknown) => number = () => 0,
): Promise<void> {
  const client = adminClient(ctx, opts);
  try {
    await runView(ctx, opts, async () => {
      const r = await client.call(command, args);
      return { text: r.text, json: r.data, problems: problemsOf(r.data) };
    });
  } finally {
    client.close();
  }
}

interface HostView {
  name: string;
  command: string;
  description: string;
  argument?: [string, string, ((v: string) => string)?];
  examples: string[];
  json: string;
  problemsOf?: (data: unknown) => number;
}

const VIEWS: HostView[] = [
  {
    name: 'ports',
    command: 'ports/show',
    description: "this host's ports (TAP devices): mode, VNI/VLANs, counters",
    examples: ['dvs agent ports', 'dvs agent ports --json'],
    json: `the agent's ports/show data: [ { "name", "mode": "access"|"trunk", "vni" (access) | null,
  "vlans": { "<vlan>": vni } (trunk), "device", "mtu",
  "counters": { "rxFrames", "rxBytes", "txFrames", "txBytes", "txDrops" } } ]`,
  },
  {
    name: 'fdb',
    command: 'fdb/show',
    description: "this host's local FDB (what the data path forwards on), optionally one VNI",
    argument: ['[vni]', 'only this VNI', (v) => String(parseVni(v))],
    examples: ['dvs agent fdb', 'dvs agent fdb 100', 'dvs agent fdb --json'],
    json: `the agent's fdb/show data: [ { "vni", "mac", "kind": "port"|"vtep", "location" (port name or
  "address:port"), "static", "control" (set by the controller), "seq", "ageSeconds", "moves" } ]`,
  },
  {
    name: 'peers',
    command: 'peers/show',
    description: 'peer VTEPs this host knows, their VNIs, flood lists and counters',
    examples: ['dvs agent peers'],
    json: `the agent's peers/show data: [ { "vtep": "address:port", "address", "port", "vnis", "floodVnis",
  "counters": { "rxFrames", "rxBytes", "txFrames", "txBytes", "txDrops" } } ]`,
  },
  {
    name: 'counters',
    command: 'counters/show',
    description: 'data path counters: frames, bytes, drops by reason',
    examples: ['dvs agent counters', 'dvs agent counters --watch --interval 1'],
    json: `the agent's counters/show data: { "drops": { "<reason>": n }, "fdb": { …, "size", "sizeByVni" },
  "ports": { "<port>": traffic }, "peers": { "address:port": traffic }, "rejectedChanges" }`,
  },
  {
    name: 'tunnels',
    command: 'tunnels/show',
    description: "this host's tunnel health as its probes see it (exit 1 when a tunnel is down)",
    argument: ['[peer-address]', 'only the tunnel to this peer VTEP address'],
    examples: ['dvs agent tunnels', 'dvs agent tunnels 192.0.2.2', 'dvs agent tunnels --json'],
    json: `{ "host", "session", "intervalMs", "multiplier", "upAfter",
  "peers": [ { "vtep": { "address", "port" }, "host", "encap", "vni", "state", "rtt": { "lastMs", "avgMs", "p99Ms" } | null,
  "lossPct", "lastChange", "reason", "detail", "rxPackets", "txPackets", "rxBytes", "txBytes",
  "probes": { "sent", "replies", "sendErrors" } } ] }`,
    problemsOf: downPeers,
  },
];

export function addAgentCommands(program: Command, ctx: CliContext): void {
  const agent = program
    .command('agent')
    .description("this host's agent, through its admin socket (run on the host, as root)");
  helpAfter(agent, ['dvs agent ports', 'dvs agent tunnels', 'dvs agent call list-commands', 'dvs --help']);

  for (const view of VIEWS) {
    const cmd = agent.command(view.name).description(view.description);
    if (view.argument) {
      const [flags, description, parser] = view.argument;
      if (parser) cmd.argument(flags, description, parser);
      else cmd.argument(flags, description);
    }
    withWatch(withJson(withSocket(cmd)));
    helpAfter(cmd, view.examples, view.json);
    cmd.action(async (...params: unknown[]) => {
      const opts = (view.argument ? params[1] : params[0]) as Opts;
      const arg = view.argument ? (params[0] as string | undefined) : undefined;
      await agentView(ctx, opts, view.command, arg === undefined ? [] : [arg], view.problemsOf);
    });
  }

  const call = agent
    .command('call')
    .description('run any registered admin command (noun/verb); see `dvs agent call list-commands`')
    .argument('<command>', 'admin command, e.g. fdb/show, ports/add, version')
    .argument('[args...]', 'its arguments, as the command expects them');
  withWatch(withJson(withSocket(call)));
  helpAfter(
    call,
    ['dvs agent call list-commands', 'dvs agent call version --json', 'dvs agent call fdb/flush 100'],
    "the command's data, as the agent returns it",
  );
  call.action(async (command: string, args: string[], opts: Opts) => {
    await agentView(ctx, opts, command, args);
  });
}
