/**
 * `npm run bench -- workers [--pairs 2] [--seconds 3] [--pings 100] [--workers 2] [--skip-agent]`
 *
 * 1 against N data-path workers per host (docs/multi-core.md), in
 * alternating pairs on fresh topologies: pair k measures 1 worker then N
 * (k even) or N then 1 (k odd), so slow drift of the machine's load does not
 * favour one side; then, unless --skip-agent, today's single-thread
 * dvs-agent on the data-path benchmark's dvs-vxlan path, as the reference.
 * Prints every measurement, each pair's N/1 ratios, and the load average.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { LabError } from '../errors.js';
import { parseBenchArgs, wholeNumberOption } from '../bench-args.js';
import { netdevAddonBuilt, REPO_ROOT } from '../programs.js';
import { releaseAll } from '../datapath-bench/bench-resources.js';
import { buildPath } from '../datapath-bench/topologies.js';
import { measureWorkers, workerDrops, workerShares, type WorkerSample } from './measure-workers.js';
import { buildWorkerPath } from './topology.js';
import { renderWorkerReport } from './report.js';

const HELP = `usage: npm run bench -- workers [options]   (as root)

Two hosts (namespaces), a VM namespace on each behind a multi-queue TAP,
VXLAN between them; each host switches with 1 or N data-path worker threads
(one TAP queue and one SO_REUSEPORT socket each). iperf3 TCP x1 and x4 and a
ping series per measurement; 1 and N workers in alternating pairs.

options:
  --pairs N      1-worker/N-worker pairs (default 2)
  --workers N    workers on the N side (default 2)
  --seconds N    seconds per iperf3 test (default 3)
  --pings N      pings at 10 ms per measurement (default 100)
  --source-ports shared|own
                 shared (default): every worker sends from one port range
                 (SO_REUSEPORT), so a flow keeps its outer source port
                 whichever worker sends it; own: 16 ephemeral ports per worker
  --skip-agent   do not measure today's dvs-agent as the reference
  -h, --help     this text
`;

const opts = parseBenchArgs('workers', {
  help: { type: 'boolean', short: 'h' },
  pairs: { type: 'string' },
  workers: { type: 'string' },
  seconds: { type: 'string' },
  pings: { type: 'string' },
  'skip-agent': { type: 'boolean' },
  'source-ports': { type: 'string' },
});

function count(name: 'pairs' | 'workers' | 'seconds' | 'pings', fallback: number): number {
  return wholeNumberOption(name, opts[name], fallback);
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const abort = new AbortController();

async function main(): Promise<number> {
  if (opts.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new LabError('DVS_LAB_NOT_ROOT', 'the workers benchmark needs root (netns)');
  if (!netdevAddonBuilt())
    throw new LabError('DVS_LAB_UNAVAILABLE', 'the netdev addon is not built: scripts/bootstrap.sh');
  const sourcePorts = opts['source-ports'] ?? 'shared';
  if (sourcePorts !== 'shared' && sourcePorts !== 'own')
    throw new LabError('DVS_LAB_BAD_SPEC', `--source-ports must be shared or own, got ${sourcePorts}`);
  const pairs = count('pairs', 2);
  const many = count('workers', 2);
  const o = { seconds: count('seconds', 3), pingCount: count('pings', 100), signal: abort.signal };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: removing the benchmark's namespaces and processes`);
    abort.abort();
    void releaseAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const loadBefore = load();
  console.log(`workers benchmark: ${new Date().toISOString()}, commit ${commit}, load average ${loadBefore}`);
  const runs: WorkerSample[][] = [];
  const reference: WorkerSample[] = [];
  for (let k = 0; k < pairs; k++) {
    const order = k % 2 === 0 ? [1, many] : [many, 1];
    const pair: WorkerSample[] = [];
    for (const workers of order) {
      const path = await buildWorkerPath(workers, sourcePorts, abort.signal);
      let sample: Omit<WorkerSample, 'shares' | 'drops'>;
      try {
        sample = await measureWorkers(path, path.switchPids, o, () => path.snapshot());
      } catch (err) {
        await path.release();
        throw err;
      }
      const counters = await path.release();
      const done: WorkerSample = { ...sample, shares: counters.map(workerShares), drops: counters.map(workerDrops) };
      pair.push(done);
      console.log(`pair ${k + 1}: ${line(done)}  (load ${load()})`);
    }
    runs.push(order[0] === 1 ? pair : [pair[1], pair[0]]);
    if (opts['skip-agent'] !== true) {
      const path = await buildPath('dvs-vxlan', { signal: abort.signal });
      try {
        const sample = {
          ...(await measureWorkers(path, path.agentPids, o)),
          name: 'dvs-agent',
          shares: [],
          drops: [],
          loops4: [],
        };
        reference.push(sample);
        console.log(`pair ${k + 1}: ${line(sample)}  (load ${load()})`);
      } finally {
        await path.release();
      }
    }
  }
  console.log(
    '\n' +
      renderWorkerReport(runs, reference, {
        date: new Date().toISOString(),
        commit,
        load: `${loadBefore} before, ${load()} after`,
        conditions: `${o.seconds} s per iperf3 test, ${o.pingCount} pings at 10 ms, offloads on, 16 outer source ports (${sourcePorts === 'shared' ? 'one range shared by the workers' : 'per worker'})`,
      }),
  );
  return 0;
}

function line(s: WorkerSample): string {
  const shares = s.shares.map((h) => h.map((v) => `${Math.round(v * 100)}%`).join('/')).join(' | ');
  const loops = s.loops4.map((h) => h.map((v) => `${Math.round(v * 100)}%`).join('/')).join(' | ');
  return (
    `${s.name.padEnd(10)} TCP×1 ${s.tcp1Gbps.toFixed(2)} Gb/s, TCP×4 ${s.tcp4Gbps.toFixed(2)} Gb/s ` +
    `(${s.tcp4Retransmits} retr), ping ${(s.pingAvgMs * 1000).toFixed(0)}/${(s.pingP99Ms * 1000).toFixed(0)} µs, ` +
    `CPU ${s.cpu1PerGB.toFixed(2)}/${s.cpu4PerGB.toFixed(2)} s/GB${shares === '' ? '' : `, worker shares ${shares}`}` +
    (loops === '' ? '' : `, loops busy in ×4 ${loops}`) +
    (s.batches4.length === 0
      ? ''
      : `, batch tap/recv ${s.batches4.map((b) => `${b.tap.toFixed(1)}/${b.recv.toFixed(1)}`).join(' | ')}`) +
    (s.drops.length === 0 ? '' : `, drops ${s.drops.map((d) => JSON.stringify(d)).join(' | ')}`)
  );
}

process.exitCode = await main().catch(async (e: Error) => {
  await releaseAll();
  if (abort.signal.aborted) return 130;
  console.error(`workers benchmark failed: ${e.message}`);
  return 1;
});
