/**
 * Host views through the local agent's admin socket: `dvs agent …`. The agent
 * renders both forms itself (text for people, data for --json); the CLI adds
 * --watch, exit codes and errors that say what to do.
 */
import type { Command } from 'commander';
import { adminClient, type CliContext, type SocketOption } from '../cli-context.js';
import { runView, type ViewOptions } from '../view-runner.js';
import { parseVni } from '../validate.js';
import { PORT_PLUGS, type AgentCommandName, type AgentPortView, type TunnelsShowData } from '@dvs/wire';
import type { ReplyOf } from '@dvs/admin-client';
import {
  COUNTERS_FIELDS,
  describeReply,
  FDB_FIELDS,
  NETWORK_FIELDS,
  PEER_FIELDS,
  PORT_FIELDS,
  SOCKET_FIELDS,
  TUNNELS_FIELDS,
} from '../render/agent-reply-fields.js';
import { Argument } from 'commander';
import { printJson } from '../view-runner.js';
import { helpAfter, withJson, withSocket, withWatch } from './common-options.js';

type Opts = ViewOptions & SocketOption;

/** Down tunnels in a tunnels/show answer. */
function downPeers(data: TunnelsShowData): number {
  return data.peers.filter((p) => p.state === 'down').length;
}

export async function agentView<Command extends string>(
  ctx: CliContext,
  opts: Opts,
  command: Command,
  args: readonly string[],
  problemsOf: (data: ReplyOf<Command>) => number = () => 0,
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

interface HostView<Command extends AgentCommandName> {
  name: string;
  command: Command;
  description: string;
  argument?: [string, string, ((v: string) => string)?];
  examples: string[];
  json: string;
  problemsOf?: (data: ReplyOf<Command>) => number;
}

/** A view with its command's reply type checked, ready to run. */
interface RunnableView extends Omit<HostView<AgentCommandName>, 'command' | 'problemsOf'> {
  show(ctx: CliContext, opts: Opts, args: readonly string[]): Promise<void>;
}

function hostView<Command extends AgentCommandName>(view: HostView<Command>): RunnableView {
  return { ...view, show: (ctx, opts, args) => agentView(ctx, opts, view.command, args, view.problemsOf) };
}

/** Ports that are not up (down or gone) in a ports/show answer. */
function portsNotUp(data: AgentPortView[]): number {
  return data.filter((p) => p.state !== 'up').length;
}

const VIEWS: RunnableView[] = [
  hostView({
    name: 'fdb',
    command: 'fdb/show',
    description: "this host's local FDB (what the data path forwards on), optionally one VNI",
    argument: ['[vni]', 'only this VNI', (v) => String(parseVni(v))],
    examples: ['dvs agent fdb', 'dvs agent fdb 100', 'dvs agent fdb --json'],
    json: `the agent's fdb/show data: [ ${describeReply(FDB_FIELDS, '    ')} ]`,
  }),
  hostView({
    name: 'networks',
    command: 'networks/show',
    description:
      "this host's networks: the datapath provider (kernel or userspace) that serves each and why, encap, MTU, ports, flood list, and ARP/ND suppression with its counters",
    examples: ['dvs agent networks', 'dvs agent networks --json'],
    json: `the agent's networks/show data: [ ${describeReply(NETWORK_FIELDS, '    ')} ]`,
  }),
  hostView({
    name: 'peers',
    command: 'peers/show',
    description: 'peer VTEPs this host knows, their VNIs, flood lists and counters',
    examples: ['dvs agent peers'],
    json: `the agent's peers/show data: [ ${describeReply(PEER_FIELDS, '    ')} ]`,
  }),
  hostView({
    name: 'counters',
    command: 'counters/show',
    description: 'data path counters: frames, bytes, drops by reason',
    examples: ['dvs agent counters', 'dvs agent counters --watch --interval 1'],
    json: `the agent's counters/show data: ${describeReply(COUNTERS_FIELDS)}`,
  }),
  hostView({
    name: 'tunnels',
    command: 'tunnels/show',
    description: "this host's tunnel health as its probes see it (exit 1 when a tunnel is down)",
    argument: ['[peer-address]', 'only the tunnel to this peer VTEP address'],
    examples: ['dvs agent tunnels', 'dvs agent tunnels 192.0.2.2', 'dvs agent tunnels --json'],
    json: `the agent's tunnels/show data: ${describeReply(TUNNELS_FIELDS)}`,
    problemsOf: downPeers,
  }),
  hostView({
    name: 'sockets',
    command: 'sockets/show',
    description:
      "this host's tunnel sockets: whether the kernel reads them with UDP_GRO and sends with UDP GSO (offloads), and their datagrams",
    examples: ['dvs agent sockets', 'dvs agent sockets --json'],
    json: `the agent's sockets/show data: [ ${describeReply(SOCKET_FIELDS, '    ')} ]`,
  }),
];

export function addAgentCommands(program: Command, ctx: CliContext): void {
  const agent = program
    .command('agent')
    .description("this host's agent, through its admin socket (run on the host, as root)");
  helpAfter(agent, ['dvs agent ports', 'dvs agent tunnels', 'dvs agent call list-commands', 'dvs --help']);

  addPortCommands(agent, ctx);

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
      await view.show(ctx, opts, arg === undefined ? [] : [arg]);
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

/**
 * `dvs agent ports` (the view: kind, device kind, state and since when; exit
 * 1 while a port is not up), `dvs agent ports add <name> <mapping> [plug]`
 * and `dvs agent ports del <name>`: the agent's ports/show, ports/add and
 * ports/del, with the same plug words (create, adopt, attach).
 */
function addPortCommands(agent: Command, ctx: CliContext): void {
  const ports = agent
    .command('ports')
    .description("this host's ports: kind, device, state (up/down/gone) and since when, VNI/VLANs, counters");
  helpAfter(ports, ['dvs agent ports', 'dvs agent ports add vnet3 100 attach', 'dvs agent ports del vnet3']);

  const list = ports
    .command('list', { isDefault: true })
    .description("this host's ports (exit 1 while one is down or gone)");
  withWatch(withJson(withSocket(list)));
  helpAfter(
    list,
    ['dvs agent ports', 'dvs agent ports --json', 'dvs agent ports --watch'],
    `the agent's ports/show data: [ ${describeReply(PORT_FIELDS, '    ')} ]`,
  );
  list.action(async (opts: Opts) => agentView(ctx, opts, 'ports/show', [], portsNotUp));

  const add = ports
    .command('add')
    .description(
      'plug a device in: create a TAP (default), adopt a TAP nobody holds, or attach an existing device (a TAP QEMU holds, a veth end, a macvlan, a NIC); kept across restarts unless it is a created TAP that is not persistent',
    )
    .argument('<name>', 'the device name (at most 15 characters)')
    .argument('<mapping>', 'the VNI (100) or a trunk map (trunk:10=100,20=200)')
    .addArgument(new Argument('[plug]', 'how the agent gets the device').choices(PORT_PLUGS).default('create'))
    .option('--persistent', 'a created TAP outlives the agent (restarts and upgrades do not unplug its workload)')
    .option(
      '--allow <mac[,ip…]>',
      'port security: a source MAC the port may send, with the IPs it may use (repeatable; others are dropped)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--lock-mac', 'port security: the first source MAC the port sends is its only one')
    .option('--max-macs <n>', 'at most n learned MACs per VNI on the port (mac-limit)')
    .option('--storm-broadcast <pps>', 'storm control: broadcast frames per second the port may flood')
    .option('--storm-multicast <pps>', 'storm control: multicast frames per second')
    .option('--storm-unknown-unicast <pps>', 'storm control: unknown-unicast frames per second');
  withJson(withSocket(add));
  helpAfter(
    add,
    [
      'dvs agent ports add tap0 100',
      'dvs agent ports add vnet3 100 attach',
      'dvs agent ports add veth-pod1 trunk:10=100,20=200 attach',
      'dvs agent ports add tap-db1 200 create --persistent',
      'dvs agent ports add vnet4 100 attach --allow 52:54:00:12:34:56,192.0.2.10 --max-macs 4 --storm-broadcast 200',
    ],
    `the agent's ports/add data: ${describeReply(PORT_FIELDS)}`,
  );
  add.action(async (name: string, mapping: string, plug: string, opts: Opts & PortSecurityOptions) => {
    await agentCall(ctx, opts, 'ports/add', [
      name,
      mapping,
      plug,
      ...(opts.persistent ? ['persistent'] : []),
      ...portSecurityWords(opts),
    ]);
  });

  const del = ports
    .command('del')
    .description('unplug a port: a created TAP is deleted, an adopted TAP or attached device is left in place')
    .argument('<name>', 'the port name');
  withJson(withSocket(del));
  helpAfter(del, ['dvs agent ports del vnet3'], '{ "name" }');
  del.action(async (name: string, opts: Opts) => agentCall(ctx, opts, 'ports/del', [name]));

  const qos = ports
    .command('qos')
    .description(
      "police a port's frames with a token bucket, as OVS's ingress_policing_rate/burst: beyond the rate they are dropped (counted policed); egress limits what the port receives",
    )
    .argument('<name>', 'the port name')
    .addArgument(
      new Argument('<direction>', 'frames from the port (ingress) or to it (egress)').choices(['ingress', 'egress']),
    )
    .argument('<rate>', 'kbit/s (1..100000000), or off')
    .argument('[burst]', 'kbit (at least 74: one jumbo frame); default a tenth of the rate');
  withJson(withSocket(qos));
  helpAfter(
    qos,
    [
      'dvs agent ports qos tap0 ingress 20000',
      'dvs agent ports qos tap0 egress 100000 10000',
      'dvs agent ports qos tap0 ingress off',
    ],
    '{ "port", "direction", "policer": { "rateKbps", "burstKb" } | null }; ports list --json shows it with its policed count',
  );
  qos.action(async (name: string, direction: string, rate: string, burst: string | undefined, opts: Opts) =>
    agentCall(ctx, opts, 'ports/qos', [name, direction, rate, ...(burst === undefined ? [] : [burst])]),
  );
}

interface PortSecurityOptions {
  persistent?: boolean;
  allow: string[];
  lockMac?: boolean;
  maxMacs?: string;
  stormBroadcast?: string;
  stormMulticast?: string;
  stormUnknownUnicast?: string;
}

/** The options of `dvs agent ports add` as the agent's ports/add words (the agent checks them). */
function portSecurityWords(o: PortSecurityOptions): string[] {
  return [
    ...o.allow.map((a) => `allow=${a}`),
    ...(o.lockMac ? ['lock-mac'] : []),
    ...(o.maxMacs !== undefined ? [`max-macs=${o.maxMacs}`] : []),
    ...(o.stormBroadcast !== undefined ? [`storm-broadcast=${o.stormBroadcast}`] : []),
    ...(o.stormMulticast !== undefined ? [`storm-multicast=${o.stormMulticast}`] : []),
    ...(o.stormUnknownUnicast !== undefined ? [`storm-unknown-unicast=${o.stormUnknownUnicast}`] : []),
  ];
}

/** One admin command; prints its text (or --json data). */
export async function agentCall(ctx: CliContext, opts: Opts, command: string, args: string[]): Promise<void> {
  const client = adminClient(ctx, opts);
  try {
    const r = await client.call(command, args);
    if (opts.json) printJson(ctx, r.data);
    else ctx.io.stdout(r.text.endsWith('\n') ? r.text : r.text + '\n');
  } finally {
    client.close();
  }
}
