/**
 * docs/cli.md, generated from the same commander definitions as `dvs --help`
 * (so the reference cannot drift): an introduction, then the full help of
 * every command, depth first. `npm run docs -w @dvs/cli` writes it; a test
 * fails when the committed file differs.
 */
import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { buildProgram } from './program.js';

export const CLI_DOCS_HELP_WIDTH = 100;

const INTRO = `# dvs — command reference

<!-- Generated from packages/cli/src (commander definitions) by \`npm run docs -w @dvs/cli\`.
     Do not edit by hand: packages/cli/test/cli-docs.test.ts fails when this file is out of date. -->

\`dvs\` is the operator CLI of dvs. Cluster views (\`status\`, \`hosts\`, \`networks\`, \`fdb\`,
\`tunnels\`, \`trace\`) talk to the controller's HTTP API; host views (\`dvs agent …\`) talk to the
agent on this host through its admin socket.

## Finding things

| question | command |
|---|---|
| is anything wrong? | \`dvs status\` (problems first; exit 1 when there is one) |
| which tunnel is down, and why? | \`dvs tunnels\` (down first, with the reason: \`probe timeout\`, \`no route\`, \`peer restarted\`, \`peer removed\`) |
| where is this MAC? | \`dvs fdb --mac 02:00:00:00:00:01\` |
| why can't A reach B? | \`dvs trace --vni 100 --src <A's MAC> --dst <B's MAC>\` |
| what does this host's data path hold? | \`dvs agent fdb\`, \`dvs agent peers\`, \`dvs agent counters\` |

## Tunnel health

Every agent probes every peer VTEP over the real encapsulation (same sockets, ports and VNI as
VM traffic), BFD-like: a probe every second; a tunnel is \`down\` after 3 intervals without a reply
and \`up\` again after 3 replies to consecutive probes, so one lost probe never flaps it. RTT
(last/avg/p99) and loss are measured over the last 100 probes. \`dvs tunnels\` shows what every
agent publishes in \`status/<host>\`; \`dvs agent tunnels\` asks this host's agent directly.

| state | meaning |
|---|---|
| \`init\` | probing, not yet confirmed (just started, or the peer restarted) |
| \`up\` | replies arrive |
| \`down\` | no reply for interval × multiplier (or the peer was removed) |
| \`unmonitored\` | an external VTEP (kernel vxlan, hardware switch): never probed, never \`down\` |

| reason | what happened | look at |
|---|---|---|
| \`probe timeout\` | no reply for interval × multiplier | the underlay between the two hosts; is the peer's agent running? |
| \`no route\` | the kernel refused to send (EHOSTUNREACH / ENETUNREACH) | this host's uplink and routes |
| \`send failed\` | the socket refused the probe for another reason | the agent's log |
| \`peer restarted\` | the peer's agent came back with a new session | usually nothing: it comes back up |
| \`peer removed\` | the peer left the tables (host lease expired, network deleted) | \`dvs hosts\` |
| \`replies received\` | the tunnel came (back) up | — |

## Conventions

- **Controller**: \`--controller URL\`, else \`DVS_CONTROLLER\`, else \`http://127.0.0.1:7400\`
  (the controller's default \`--listen\`).
- **Agent socket**: \`--socket PATH\`, else \`DVS_AGENT_SOCKET\`, else \`/run/dvs/agent.sock\` (root only).
- **Exit status**: \`0\` ok; \`1\` a problem was found (a status view saw a host or tunnel down, a
  duplicate MAC, a MAC not found, a dropped trace) or a component was unreachable or refused the
  request; \`2\` usage error (unknown command or option, malformed MAC, VNI, address, or a request
  the controller rejects as invalid).
- **Errors** are one line on stderr, \`dvs: <what happened>: <what to do>\`; never a stack trace
  (\`DVS_DEBUG=1\` adds one for internal errors).
- **\`--json\`** prints one JSON document with the shape given under each command; times are ms since
  the epoch, MACs canonical lower case (\`02:00:00:00:00:01\`), VTEPs \`{ "address", "port" }\`.
- **\`--watch\`** redraws every \`--interval\` seconds (default 2) until Ctrl-C, then exits 0; with
  \`--json\` it prints one JSON document per line (NDJSON). Errors are shown in place and the watch
  goes on.
- Tables are aligned plain text; colours only on a terminal, and never with \`NO_COLOR\` set.
`;

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function walk(cmd: Command, out: Command[]): void {
  out.push(cmd);
  for (const sub of cmd.commands) walk(sub, out);
}

export function generateCliDocs(): string {
  let captured = '';
  const ctx: CliContext = {
    io: { stdout: (s) => (captured += s), stderr: (s) => (captured += s), stdoutIsTty: false, env: {} },
    now: () => 0,
    signal: new AbortController().signal,
    exitCode: 0,
  };
  const program = buildProgram(ctx, { helpWidth: CLI_DOCS_HELP_WIDTH });
  const commands: Command[] = [];
  walk(program, commands);
  const sections = commands.map((cmd) => {
    captured = '';
    cmd.outputHelp();
    const help = captured.replace(/[ \t]+$/gm, '').trimEnd();
    const title = cmd === program ? 'dvs' : commandPath(cmd);
    return `## ${title}\n\n\`\`\`text\n${help}\n\`\`\`\n`;
  });
  return `${INTRO}\n${sections.join('\n')}`;
}
