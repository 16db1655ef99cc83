/**
 * `npm run bench -- datapath [--runs 3] [--seconds 3] [--pings 100]
 *   [--only veth,kernel-vxlan,dvs-vxlan,dvs-gre-udp] [--out results]
 *   [--agent-node-args "…"] [--profile <dir>] [--stages] [--agent-config '{…}']
 *   [--wire-packets 2000]`
 *
 * After each path's measurements a wire sample (wire-sample.ts) checks its
 * underlay datagrams with tshark; a failure is printed loudly (not an exit
 * status). Prints the table and writes it as Markdown and JSON (default: results/ at
 * the repository root). Ctrl-C removes every namespace and process it made.
 * `--profile <dir>` runs the agents under `node --cpu-prof` (profiles land in
 * <dir>, one per agent and path) and prints where their time went.
 * `--stages` measures only ping latency, kernel vxlan against dvs-vxlan with
 * the agents' stage trace, and prints where a ping's time goes
 * (stage-bench.ts).
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { LabError } from '../errors.js';
import { parseBenchArgs, wholeNumberOption } from '../bench-args.js';
import { isBuilt, netdevAddonBuilt, REPO_ROOT } from '../programs.js';
import { releaseAll } from './bench-resources.js';
import { renderProfileSummary, summarizeProfileFile } from './cpu-profile-summary.js';
import { renderMarkdown } from './report.js';
import { runDatapathBench, writeResults } from './run.js';
import { renderStageTable, runStageBench } from './stage-bench.js';
import { loadavg } from 'node:os';
import { DEFAULT_PATHS, PATHS, type PathName } from './topologies.js';

const HELP = `usage: npm run bench -- datapath [options]
   or: node packages/lab/dist/src/datapath-bench/main.js [options]   (as root)

Measures dvs (VXLAN and GRE-in-UDP) against the kernel's vxlan device and a
plain veth between two namespaces: TCP throughput (1 and 4 streams), the
64-byte UDP packet rate, ping latency; prints dvs against the kernel paths
measured in the same run. On the dvs-vxlan path it also measures what sFlow
(1-in-1000) and IPFIX cost: each switched off and on in alternating pairs.

options:
  --runs N              runs of each path, results are medians (default 3)
  --seconds N           seconds per throughput measurement (default 3)
  --pings N             pings per latency measurement (default 100)
  --only a,b            paths to measure: ${PATHS.join(', ')}
                        (default all but ovs-userspace)
  --ovs                 add ovs-userspace: Open vSwitch 3.1's userspace datapath,
                        a private OVS per host (installs openvswitch-switch from
                        Debian on first use; starts no system service)
  --out DIR             where the Markdown and JSON results go (default results/)
  --agent-node-args "…" extra node options for the agents
  --agent-cwd DIR       the agents' working directory
  --profile DIR         run the agents under node --cpu-prof into DIR and summarise
  --offloads on|off     the agents' TAP offloads (default: the agent's default, on)
  --wire-packets N      underlay datagrams captured per path and run for the wire
                        check (tcpdump -c, then tshark; default 2000; 0: no check)
  --feature-pairs N     off/on pairs per flow export feature on dvs-vxlan (default 2; 0: none)
  --agent-config JSON   extra fields for both agents' configs, e.g. '{"busyPollUs":50}'
  --stages              ping latency only: kernel vxlan, then dvs-vxlan with the
                        agents' stage trace; prints the per-stage breakdown
                        (median, p99) of --pings pings per run
  --ping-interval S     seconds between pings with --stages (default 0.01;
                        0.0005 keeps the agents warm: the cold/warm contrast)
  -h, --help            this text
`;

const opts = parseBenchArgs('datapath', {
  help: { type: 'boolean', short: 'h' },
  runs: { type: 'string' },
  repeats: { type: 'string' },
  seconds: { type: 'string' },
  pings: { type: 'string' },
  only: { type: 'string' },
  out: { type: 'string' },
  'agent-node-args': { type: 'string' },
  'agent-cwd': { type: 'string' },
  profile: { type: 'string' },
  offloads: { type: 'string' },
  'agent-config': { type: 'string' },
  'feature-pairs': { type: 'string' },
  'wire-packets': { type: 'string' },
  stages: { type: 'boolean' },
  ovs: { type: 'boolean' },
  'ping-interval': { type: 'string' },
});

function option(name: keyof typeof opts): string | undefined {
  const value = opts[name];
  return typeof value === 'string' ? value : undefined;
}

function count(name: 'runs' | 'repeats' | 'seconds' | 'pings', fallback: number): number {
  return wholeNumberOption(name, option(name), fallback);
}

function pingInterval(): number | undefined {
  const raw = option('ping-interval');
  if (raw === undefined) return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 0.0002 || s > 1)
    throw new LabError('DVS_LAB_BAD_SPEC', '--ping-interval must be seconds, 0.0002..1');
  return s;
}

function featurePairs(): number | undefined {
  const raw = option('feature-pairs');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new LabError('DVS_LAB_BAD_SPEC', '--feature-pairs must be a whole number ≥ 0');
  return Number(raw);
}

function wirePackets(): number | undefined {
  const raw = option('wire-packets');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new LabError('DVS_LAB_BAD_SPEC', '--wire-packets must be a whole number ≥ 0');
  return Number(raw);
}

const abort = new AbortController();

async function main(): Promise<number> {
  if (opts.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new LabError('DVS_LAB_NOT_ROOT', 'the data-path benchmark needs root (netns)');
  const only = option('only')?.split(',') ?? [...DEFAULT_PATHS];
  if (opts.ovs === true && !only.includes('ovs-userspace')) only.push('ovs-userspace');
  const bad = only.filter((p) => !PATHS.includes(p as PathName));
  if (bad.length > 0)
    throw new LabError('DVS_LAB_BAD_SPEC', `--only: unknown path ${bad.join(', ')} (${PATHS.join(', ')})`);
  let paths = only as PathName[];
  if (!isBuilt('agent') || !netdevAddonBuilt()) {
    console.log('dvs-agent or the netdev addon is not built: measuring the kernel paths only');
    paths = paths.filter((p) => !p.startsWith('dvs'));
  }
  const out = option('out') ?? 'results';
  const offloads = option('offloads');
  if (offloads !== undefined && offloads !== 'on' && offloads !== 'off') {
    process.stderr.write(`datapath benchmark: --offloads must be on or off, got ${offloads}\n`);
    process.exit(2);
  }
  const profileDir = option('profile') === undefined ? undefined : resolve(option('profile')!);
  const agentNodeArgs =
    option('agent-node-args')
      ?.split(' ')
      .filter((a) => a !== '') ?? [];
  if (profileDir !== undefined) agentNodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  let agentConfig: Record<string, unknown> | undefined;
  const configText = option('agent-config');
  if (configText !== undefined) {
    try {
      agentConfig = JSON.parse(configText) as Record<string, unknown>;
    } catch (error) {
      process.stderr.write(`datapath benchmark: --agent-config is not JSON: ${(error as Error).message}\n`);
      process.exit(2);
    }
  }
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing the benchmark's namespaces and processes`);
    abort.abort();
    void releaseAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (opts.stages === true) {
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const runs = await runStageBench({
      runs: count('runs', count('repeats', 3)),
      pingCount: count('pings', 100),
      pingIntervalS: pingInterval(),
      agentNodeArgs,
      agentConfig,
      ...(offloads === undefined ? {} : { offloads }),
      onProgress: (line) => console.log(line),
      signal: abort.signal,
    });
    const after = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const config =
      (agentConfig === undefined ? '' : `, agent config ${JSON.stringify(agentConfig)}`) +
      `, a ping every ${(pingInterval() ?? 0.01) * 1000} ms`;
    console.log('\n' + renderStageTable(runs, `load average ${load} before, ${after} after${config}`));
    return 0;
  }
  const result = await runDatapathBench({
    runs: count('runs', count('repeats', 3)),
    seconds: count('seconds', 3),
    pingCount: count('pings', 100),
    paths,
    agentNodeArgs,
    agentCwd: option('agent-cwd'),
    ...(offloads === undefined ? {} : { offloads }),
    agentConfig,
    featurePairs: featurePairs(),
    wirePackets: wirePackets(),
    onProgress: (line) => console.log(line),
    signal: abort.signal,
  });
  console.log('\n' + renderMarkdown(result.summary, result.context, result.options.runs));
  const written = await writeResults(result, isAbsolute(out) ? out : join(REPO_ROOT, out));
  console.log(`written: ${written.markdown} and ${written.json}`);
  // Not an exit status (the figures are noise-prone, the wire is not): loud, on stderr, at the end.
  const wireFailures = Object.entries(result.summary.wire).filter(([, w]) => !w.pass);
  for (const [name, w] of wireFailures) {
    console.error(
      `\n${'!'.repeat(72)}\nWIRE CHECK FAILED on ${name}: ${w.overMtu} datagram(s) over MTU ${w.mtu}, ${w.undecoded} undecoded, ${w.decodeErrors} decode error(s)`,
    );
    for (const p of w.problems) console.error(`  ${p}`);
    console.error('!'.repeat(72));
  }
  if (profileDir !== undefined) {
    for (const f of (await readdir(profileDir)).filter((x) => x.endsWith('.cpuprofile')).sort()) {
      console.log('\n' + renderProfileSummary(f, await summarizeProfileFile(join(profileDir, f))));
    }
  }
  return 0;
}

process.exitCode = await main().catch(async (e: Error) => {
  await releaseAll();
  // Interrupted: the signal handler is cleaning up and exits with 130/143.
  if (abort.signal.aborted) return 130;
  console.error(`datapath benchmark failed: ${e.message}`);
  return 1;
});
