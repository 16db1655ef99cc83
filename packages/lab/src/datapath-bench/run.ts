/**
 * Runs the comparison: for each run, each path in turn is built, measured
 * and removed, so no idle agent or device of another path shares the CPU and
 * every run sees the same machine state (the order flips every other run). The kernel-vxlan figure of a run is
 * the baseline of that run's dvs ratios.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../command-runner.js';
import { packageVersion, REPO_ROOT } from '../programs.js';
import { measurePath, type PathSample } from './measure.js';
import { measureFeatureCosts } from './feature-cost.js';
import { renderMarkdown, summarize, type DatapathSummary, type RunRecord } from './report.js';
import { buildPath, DEFAULT_PATHS, type PathName } from './topologies.js';
import { ensureOvsInstalled } from './ovs-install.js';
import { DEFAULT_WIRE_PACKETS, sampleWire } from './wire-sample.js';
import { describeWireVerdict } from '../underlay-wire.js';

export interface DatapathBenchOptions {
  /** Repetitions of the whole comparison (default 3). */
  runs?: number;
  /** iperf3 `-t` seconds per test (default 3). */
  seconds?: number;
  /** Pings at 10 ms per path (default 100). */
  pingCount?: number;
  /** Paths to measure, in this order (default all four). */
  paths?: readonly PathName[];
  /** Off/on pairs per flow export feature on the dvs-vxlan path (feature-cost.ts); 0: none. Default 2. */
  featurePairs?: number;
  /** Extra node options for the dvs agents (e.g. `--cpu-prof`). */
  agentNodeArgs?: readonly string[];
  /** Working directory of the agents (where `--cpu-prof` writes). */
  agentCwd?: string;
  /** The agents' `offloads` (default: the agent's own default). */
  offloads?: 'on' | 'off';
  /** Extra fields for both agents' configs. */
  agentConfig?: Readonly<Record<string, unknown>>;
  /** Datagrams of the underlay captured per path and run for the wire check (wire-sample.ts); 0: no check. Default 2000. */
  wirePackets?: number;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DatapathBenchResult {
  context: Record<string, string>;
  options: { runs: number; seconds: number; pingCount: number; paths: PathName[]; wirePackets: number };
  runs: RunRecord[];
  summary: DatapathSummary;
}

export async function runDatapathBench(options: DatapathBenchOptions = {}): Promise<DatapathBenchResult> {
  const runs = options.runs ?? 3;
  const seconds = options.seconds ?? 3;
  const pingCount = options.pingCount ?? 100;
  const paths = [...(options.paths ?? DEFAULT_PATHS)];
  const say = options.onProgress ?? (() => undefined);
  const wirePackets = options.wirePackets ?? DEFAULT_WIRE_PACKETS;
  if (paths.includes('ovs-userspace')) await ensureOvsInstalled(say, options.signal);
  const records: RunRecord[] = [];
  for (let run = 1; run <= runs; run++) {
    const record: RunRecord = { run, samples: {} };
    records.push(record);
    // Odd runs go in the given order, even runs in reverse: no path is always
    // measured right after the same neighbour or always last.
    for (const name of run % 2 === 1 ? paths : [...paths].reverse()) {
      options.signal?.throwIfAborted();
      const path = await buildPath(name, {
        agentNodeArgs: options.agentNodeArgs,
        agentCwd: options.agentCwd,
        ...(options.offloads === undefined ? {} : { offloads: options.offloads }),
        agentConfig: options.agentConfig,
        signal: options.signal,
      });
      try {
        const s = await measurePath(path, { seconds, pingCount, signal: options.signal });
        record.samples[name] = s;
        say(`run ${run}/${runs} ${name.padEnd(12)} ${sampleLine(s)}`);
        if (name === 'dvs-vxlan' && (options.featurePairs ?? 2) > 0) {
          const pairs = options.featurePairs ?? 2;
          record.featureCosts = await measureFeatureCosts(path, {
            seconds: Math.min(seconds, 2),
            pingCount,
            pairs,
            signal: options.signal,
          });
          for (const f of record.featureCosts)
            say(
              `run ${run}/${runs} cost of ${f.what}: TCP ×1 ${f.tcp1.map(pct).join(', ')}; UDP 64 B ${f.udp64.map(pct).join(', ')}; agent CPU/GB ${f.cpu.map(pct).join(', ')}`,
            );
        }
        // Last, after every measured figure: the capture's cost stays out of them.
        if (wirePackets > 0) {
          const wire = await sampleWire(path, { packets: wirePackets, seconds: 2, signal: options.signal });
          if (wire !== null) {
            (record.wire ??= {})[name] = wire;
            const line = `run ${run}/${runs} ${name.padEnd(12)} wire: ${describeWireVerdict(wire)}`;
            say(
              wire.pass
                ? line
                : `${line}\n${'!'.repeat(20)} WIRE CHECK FAILED on ${name}${wire.pcap === undefined ? '' : ` (pcap kept: ${wire.pcap})`}`,
            );
          }
        }
      } finally {
        await path.release();
      }
    }
  }
  return {
    context: await environment(seconds, pingCount, wirePackets),
    options: { runs, seconds, pingCount, paths, wirePackets },
    runs: records,
    summary: summarize(records),
  };
}

const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

export function sampleLine(s: PathSample): string {
  const cpu = s.agentCpuSecondsPerGB === null ? '' : `, agents ${s.agentCpuSecondsPerGB.toFixed(2)} CPU s/GB`;
  return (
    `TCP ${s.tcp1Gbps.toFixed(2)} Gb/s (retr ${s.tcp1Retransmits}), ×4 ${s.tcp4Gbps.toFixed(2)} Gb/s, ` +
    `UDP64 rx ${(s.udp64RxPps / 1000).toFixed(1)} kpps (loss ${s.udp64LossPct.toFixed(1)} %), ` +
    `ping ${(s.pingAvgMs * 1000).toFixed(0)}/${(s.pingP99Ms * 1000).toFixed(0)} µs${cpu}`
  );
}

async function packageVersions(): Promise<string> {
  const out: string[] = [];
  for (const pkg of ['@dvs/netdev', '@dvs/agent', '@dvs/lab']) {
    try {
      out.push(packageVersion(pkg));
    } catch {
      out.push(`${pkg} ?`);
    }
  }
  return out.join(', ');
}

async function environment(seconds: number, pingCount: number, wirePackets: number): Promise<Record<string, string>> {
  const first = async (argv: string[]) =>
    (await runCommand(argv, { allowFailure: true }).catch(() => ({ stdout: '' }))).stdout.split('\n')[0].trim();
  const commit = await first(['git', '-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = await first(['git', '-C', REPO_ROOT, 'status', '--porcelain', '--', 'packages']);
  return {
    date: new Date().toISOString(),
    machine: `${cpus().length} CPU(s), ${cpus()[0]?.model ?? 'unknown model'}`,
    kernel: release(),
    node: process.version,
    packages: await packageVersions(),
    commit: commit === '' ? 'unknown' : `${commit}${dirty === '' ? '' : ' (work tree has changes)'}`,
    iperf3: await first(['iperf3', '--version']),
    method: `iperf3 -t ${seconds} (TCP ×1, ×4; UDP -l 64 -b 0), ${pingCount} pings at 10 ms, MTU 1450 on every path`,
    wire:
      wirePackets === 0
        ? 'not checked (--wire-packets 0)'
        : `tcpdump -c ${wirePackets} on the sending host's underlay during a separate 2 s TCP ×1 stream after the measurements, judged by tshark`,
  };
}

/** Writes `datapath-<date>.md` and `.json` under `dir`; returns their paths. */
export async function writeResults(
  result: DatapathBenchResult,
  dir: string,
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = result.context.date.replace(/[:.]/g, '-');
  const markdown = join(dir, `datapath-${stamp}.md`);
  const json = join(dir, `datapath-${stamp}.json`);
  await writeFile(markdown, renderMarkdown(result.summary, result.context, result.options.runs));
  await writeFile(json, JSON.stringify(result, null, 2) + '\n');
  return { markdown, json };
}
