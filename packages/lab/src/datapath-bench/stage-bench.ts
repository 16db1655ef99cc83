/**
 * `npm run bench -- datapath --stages`: where a ping's time goes through the
 * dvs agents. Each run pings over kernel vxlan (the baseline of the same
 * run), then over dvs-vxlan with both agents under the stage trace
 * (DVS_STAGE_TRACE); the agents write their traces when the path is released
 * and stage-breakdown.ts lays them on one time line. The order of the two
 * paths flips every other run. Also measured on the dvs path: the agents' CPU
 * while idle (2 s before the pings) and while pinging, as % of one core,
 * which is what a busy-poll option costs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCpuTicks, CLOCK_TICKS_PER_SECOND, percentile, ping, warmUp } from './measure.js';
import { spread, type Spread } from './report.js';
import { HOP_STAGES, hopStages, matchPings, STAGES, type HopStageName, type PingStages } from './stage-breakdown.js';
import { buildPath, type BuildOptions } from './topologies.js';
import type { StageRecord } from '@dvs/netdev';

export interface StageBenchOptions extends Pick<BuildOptions, 'agentNodeArgs' | 'offloads' | 'agentConfig'> {
  runs: number;
  pingCount: number;
  /** Seconds between pings (default 0.01); a short one keeps the agents warm. */
  pingIntervalS?: number;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

interface TracedGc {
  atUs: number;
  durationUs: number;
  kind: number;
}

export interface StageRun {
  run: number;
  kernelRttsUs: number[];
  dvsRttsUs: number[];
  pings: PingStages[];
  /** Every complete hop of both agents, per direction (TAP → tunnel, tunnel → TAP). */
  egressHops: Record<HopStageName, number>[];
  ingressHops: Record<HopStageName, number>[];
  /** Matched pings whose agent span overlapped a GC of either agent. */
  pingsWithGc: number;
  /** GCs of both agents during the pings. */
  gcs: number;
  idleCpuPct: number;
  pingCpuPct: number;
}

const IDLE_SECONDS = 2;

export async function runStageBench(o: StageBenchOptions): Promise<StageRun[]> {
  const say = o.onProgress ?? (() => undefined);
  const out: StageRun[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const order = run % 2 === 1 ? ['kernel', 'dvs'] : ['dvs', 'kernel'];
    const record: StageRun = {
      run,
      kernelRttsUs: [],
      dvsRttsUs: [],
      pings: [],
      egressHops: [],
      ingressHops: [],
      pingsWithGc: 0,
      gcs: 0,
      idleCpuPct: NaN,
      pingCpuPct: NaN,
    };
    for (const which of order) {
      o.signal?.throwIfAborted();
      if (which === 'kernel') record.kernelRttsUs = await kernelPing(o);
      else Object.assign(record, await tracedDvsPing(o));
    }
    out.push(record);
    say(
      `run ${run}/${o.runs}: kernel-vxlan ping ${avg(record.kernelRttsUs).toFixed(0)} µs, dvs-vxlan ` +
        `${avg(record.dvsRttsUs).toFixed(0)} µs; ${record.pings.length} pings traced (${record.pingsWithGc} with a GC); ` +
        `agents idle ${record.idleCpuPct.toFixed(1)} % CPU, pinging ${record.pingCpuPct.toFixed(1)} %`,
    );
  }
  return out;
}

async function kernelPing(o: StageBenchOptions): Promise<number[]> {
  const path = await buildPath('kernel-vxlan', { signal: o.signal });
  try {
    await warmUp(path, o.signal);
    return (await ping(path, { ...o, intervalS: o.pingIntervalS })).rtts.map((ms) => ms * 1000);
  } finally {
    await path.release();
  }
}

async function tracedDvsPing(o: StageBenchOptions): Promise<Partial<StageRun>> {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-stages-'));
  try {
    const path = await buildPath('dvs-vxlan', {
      agentNodeArgs: o.agentNodeArgs,
      offloads: o.offloads,
      agentConfig: o.agentConfig,
      stageTraceDir: dir,
      signal: o.signal,
    });
    let rtts: number[] = [];
    let idleCpuPct = NaN;
    let pingCpuPct = NaN;
    try {
      await warmUp(path, o.signal);
      const idle0 = await agentCpuTicks(path.agentPids);
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const idle1 = await agentCpuTicks(path.agentPids);
      idleCpuPct = cpuPct(idle1 - idle0, IDLE_SECONDS, path.agentPids.length);
      const started = Date.now();
      rtts = (await ping(path, { ...o, intervalS: o.pingIntervalS })).rtts.map((ms) => ms * 1000);
      const ping1 = await agentCpuTicks(path.agentPids);
      pingCpuPct = cpuPct(ping1 - idle1, (Date.now() - started) / 1000, path.agentPids.length);
    } finally {
      // The agents write their traces as they stop.
      await path.release();
    }
    const [a, b] = await Promise.all(path.agentStageTraces.map(readTrace));
    const pings = matchPings(a.records, b.records);
    const hops = [hopStages(a.records), hopStages(b.records)];
    const gcs = [...a.gcs, ...b.gcs];
    const first = pings.length === 0 ? Infinity : pings[0].startUs;
    const during = gcs.filter((g) => g.atUs >= first);
    return {
      dvsRttsUs: rtts,
      pings,
      egressHops: hops.flatMap((h) => h.egress),
      ingressHops: hops.flatMap((h) => h.ingress),
      gcs: during.length,
      pingsWithGc: pingsOverlappingGc(pings, during),
      idleCpuPct,
      pingCpuPct,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** % of one core per agent. */
function cpuPct(ticks: number, seconds: number, agents: number): number {
  return (ticks / CLOCK_TICKS_PER_SECOND / seconds / Math.max(1, agents)) * 100;
}

async function readTrace(file: string): Promise<{ records: StageRecord[]; gcs: TracedGc[] }> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { records: StageRecord[]; gcs?: TracedGc[] };
  return { records: parsed.records, gcs: parsed.gcs ?? [] };
}

/** Pings whose span [A woken by the request, reply written] overlapped a GC of either agent. */
function pingsOverlappingGc(pings: readonly PingStages[], gcs: readonly TracedGc[]): number {
  return pings.filter((p) => gcs.some((g) => g.atUs < p.startUs + p.span && g.atUs + g.durationUs > p.startUs)).length;
}

const avg = (v: readonly number[]): number => (v.length === 0 ? NaN : v.reduce((s, x) => s + x, 0) / v.length);

function stat(values: readonly number[]): { median: number; p99: number; avg: number } {
  const v = [...values].sort((x, y) => x - y);
  return { median: percentile(v, 50), p99: percentile(v, 99), avg: avg(v) };
}

const us = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** The breakdown table (Markdown): per stage median, p99 and mean over every traced ping of every run. */
export function renderStageTable(runs: readonly StageRun[], context: string): string {
  const pings = runs.flatMap((r) => r.pings);
  const kernel = stat(runs.flatMap((r) => r.kernelRttsUs));
  const dvs = stat(runs.flatMap((r) => r.dvsRttsUs));
  const lines = [
    `Latency breakdown, ${runs.length} run(s), ${pings.length} pings traced; ${context}`,
    '',
    '| stage | median µs | p99 µs | mean µs |',
    '|---|---|---|---|',
  ];
  for (const [key, label] of STAGES) {
    const s = stat(pings.map((p) => p[key]));
    lines.push(`| ${label} | ${us(s.median)} | ${us(s.p99)} | ${us(s.avg)} |`);
  }
  const spanMedian = stat(pings.map((p) => p.span)).median;
  lines.push(
    `| ping RTT, kernel vxlan (same runs) | ${us(kernel.median)} | ${us(kernel.p99)} | ${us(kernel.avg)} |`,
    `| ping RTT, dvs-vxlan | ${us(dvs.median)} | ${us(dvs.p99)} | ${us(dvs.avg)} |`,
    `| dvs − kernel | ${us(dvs.median - kernel.median)} | ${us(dvs.p99 - kernel.p99)} | ${us(dvs.avg - kernel.avg)} |`,
    `| dvs RTT outside A's span (VM A's stack both ways, A woken by the request) | ${us(dvs.median - spanMedian)} | | |`,
    '',
  );
  const egress = runs.flatMap((r) => r.egressHops);
  const ingress = runs.flatMap((r) => r.ingressHops);
  lines.push(
    `One agent hop, both agents (${egress.length} TAP → tunnel, ${ingress.length} tunnel → TAP):`,
    '',
    '| stage of a hop | TAP → tunnel median µs | p99 µs | tunnel → TAP median µs | p99 µs |',
    '|---|---|---|---|---|',
  );
  for (const [key, label] of HOP_STAGES) {
    const e = stat(egress.map((h) => h[key]));
    const i = stat(ingress.map((h) => h[key]));
    lines.push(`| ${label} | ${us(e.median)} | ${us(e.p99)} | ${us(i.median)} | ${us(i.p99)} |`);
  }
  lines.push('');
  const cpu = (f: (r: StageRun) => number): Spread | null => spread(runs.map(f));
  const idle = cpu((r) => r.idleCpuPct);
  const busy = cpu((r) => r.pingCpuPct);
  lines.push(
    `Agents' CPU (% of one core each, median of runs): idle ${idle === null ? '–' : idle.median.toFixed(1)} %, ` +
      `pinging ${busy === null ? '–' : busy.median.toFixed(1)} %. ` +
      `GCs during the pings: ${runs.reduce((s, r) => s + r.gcs, 0)}; traced pings overlapping one: ` +
      `${runs.reduce((s, r) => s + r.pingsWithGc, 0)}.`,
  );
  return lines.join('\n');
}
