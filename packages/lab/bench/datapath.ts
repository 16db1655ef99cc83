/**
 * Data-path benchmark (`npm run bench -- datapath [--repeats 3] [--seconds 3]
 * [--only veth,kernel-vxlan,dvs-vxlan,dvs-gre-udp]`): two VMs on two hosts
 * through a direct veth, the kernel's vxlan, dvs VXLAN and dvs GRE-in-UDP,
 * measured in turn, repeated; prints the table and writes it as Markdown and
 * JSON under results/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { release, cpus } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/command-runner.js';
import { REPO_ROOT, isBuilt } from '../src/repo-paths.js';
import { buildTopology, TOPOLOGIES, type Topology, type TopologyName } from './datapath-topologies.js';
import { measure } from './datapath-measure.js';
import { ratiosToKernel, renderMarkdown, type Samples } from './datapath-report.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<number> {
  const repeats = Number(option('repeats', '3'));
  const seconds = Number(option('seconds', '3'));
  const only = option('only', TOPOLOGIES.join(',')).split(',') as TopologyName[];
  const wanted = TOPOLOGIES.filter((t) => only.includes(t) && (isBuilt('agent') || !t.startsWith('dvs')));
  if (!isBuilt('agent')) console.log('dvs-agent is not built: measuring only the kernel paths');
  const topologies: Topology[] = [];
  const samples: Samples = new Map(wanted.map((t) => [t, []]));
  const stop = async () => {
    for (const t of topologies) await t.down().catch(() => undefined);
  };
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const name of wanted) {
      process.stdout.write(`building ${name} … `);
      topologies.push(await buildTopology(name));
      console.log(`lab ${topologies.at(-1)!.labId}`);
    }
    for (let rep = 1; rep <= repeats; rep++) {
      for (const t of topologies) {
        process.stdout.write(`run ${rep}/${repeats} ${t.name} … `);
        const s = await measure(t, seconds);
        samples.get(t.name)!.push(s);
        console.log(
          `TCP ${s.tcp1Gbps.toFixed(2)} Gb/s, x4 ${s.tcp4Gbps.toFixed(2)} Gb/s, UDP64 ${(s.udp64RxPps / 1000).toFixed(1)} kpps, ping ${s.pingAvgMs.toFixed(3)} ms`,
        );
      }
    }
  } finally {
    await stop();
  }
  const iperfVersion = (await runCommand(['iperf3', '--version'], { allowFailure: true })).stdout.split('\n')[0];
  const context = {
    date: new Date().toISOString(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    kernel: release(),
    node: process.version,
    iperf3: iperfVersion,
    'run length': `${seconds} s per test`,
  };
  const markdown = renderMarkdown(samples, context, repeats);
  console.log('\n' + markdown);
  const dir = join(REPO_ROOT, 'results');
  await mkdir(dir, { recursive: true });
  const stamp = context.date.replace(/[:.]/g, '-');
  await writeFile(join(dir, `datapath-${stamp}.md`), markdown);
  await writeFile(
    join(dir, `datapath-${stamp}.json`),
    JSON.stringify(
      { context, repeats, samples: Object.fromEntries(samples), ratiosToKernel: ratiosToKernel(samples) },
      null,
      2,
    ) + '\n',
  );
  console.log(`written: results/datapath-${stamp}.md and .json`);
  return 0;
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`datapath benchmark failed: ${e.message}`);
  return 1;
});
