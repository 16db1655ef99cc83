/**
 * One measurement of a path in the `workers` benchmark: iperf3 TCP ×1, then
 * ×4, then a ping series, with the switches' CPU time (all threads, from
 * /proc/<pid>/stat) read around each TCP test and divided by the bytes that
 * test delivered.
 */
import type { WorkerCounters } from '@dvs/agent';
import {
  CLOCK_TICKS_PER_SECOND,
  IPERF_PORT,
  agentCpuTicks,
  iperf,
  percentile,
  ping,
  warmUp,
  type VmPair,
} from '../datapath-bench/measure.js';

export interface WorkerSample {
  /** What was measured: "1 worker", "2 workers", "dvs-agent". */
  name: string;
  tcp1Gbps: number;
  tcp4Gbps: number;
  tcp4Retransmits: number;
  /** CPU seconds of both hosts' switches per GB delivered, in the ×1 and the ×4 test. */
  cpu1PerGB: number;
  cpu4PerGB: number;
  pingAvgMs: number;
  pingP99Ms: number;
  pingLost: number;
  /** Per host, each worker's share of the frames it carried (TAP reads + writes + tunnel packets); empty for the agent. */
  shares: number[][];
  /**
   * Per host, each worker's event-loop utilisation during the TCP ×4 test
   * (busy / (busy + idle)): near 1, the loop is the limit; well below, the
   * frames or the CPU are. Empty for the agent.
   */
  loops4: number[][];
  /**
   * Per host, during TCP ×4: frames per TAP read and slots per tunnel recv
   * that brought anything (all the host's workers together); empty for the agent.
   */
  batches4: { tap: number; recv: number }[];
  /** Per host, the workers' drops by reason (only reasons that counted); empty for the agent. */
  drops: Record<string, number>[];
}

export interface WorkerMeasureOptions {
  seconds: number;
  pingCount: number;
  signal?: AbortSignal;
}

export async function measureWorkers(
  path: VmPair,
  pids: readonly number[],
  o: WorkerMeasureOptions,
  /** The workers' counters now, per host (absent: the agent, no loops to read). */
  snapshot?: () => Promise<WorkerCounters[][]>,
): Promise<Omit<WorkerSample, 'shares' | 'drops'>> {
  await warmUp(path, o.signal);
  const server = path.resources.spawn(path.receiver.netns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
  try {
    const c0 = await agentCpuTicks(pids);
    const tcp1 = await iperf(path, [], o);
    const c1 = await agentCpuTicks(pids);
    const loopsBefore = await snapshot?.();
    const tcp4 = await iperf(path, ['-P', '4'], o);
    const loopsAfter = await snapshot?.();
    const c2 = await agentCpuTicks(pids);
    const { rtts, lost } = await ping(path, o);
    const sorted = [...rtts].sort((a, b) => a - b);
    const r1 = tcp1.end!.sum_received!;
    const r4 = tcp4.end!.sum_received!;
    return {
      name: path.name,
      tcp1Gbps: r1.bits_per_second / 1e9,
      tcp4Gbps: r4.bits_per_second / 1e9,
      tcp4Retransmits: tcp4.end!.sum_sent?.retransmits ?? 0,
      cpu1PerGB: (c1 - c0) / CLOCK_TICKS_PER_SECOND / (r1.bytes / 1e9),
      cpu4PerGB: (c2 - c1) / CLOCK_TICKS_PER_SECOND / (r4.bytes / 1e9),
      pingAvgMs: sorted.length === 0 ? NaN : sorted.reduce((s, v) => s + v, 0) / sorted.length,
      pingP99Ms: percentile(sorted, 99),
      pingLost: lost,
      loops4: loopsBefore === undefined || loopsAfter === undefined ? [] : loopUtilization(loopsBefore, loopsAfter),
      batches4: loopsBefore === undefined || loopsAfter === undefined ? [] : batchSizes(loopsBefore, loopsAfter),
    };
  } finally {
    server.kill('SIGTERM');
  }
}

/** Each worker's share of what its host's workers carried (frames through its TAP queue and its socket). */
export function workerShares(counters: readonly WorkerCounters[]): number[] {
  const carried = counters.map((c) => c.tapReads + c.tapWrites + c.tunnelPacketsReceived + c.tunnelPacketsSent);
  const total = carried.reduce((s, v) => s + v, 0);
  return carried.map((v) => (total === 0 ? 0 : v / total));
}

/** One host's workers' drops summed by reason, the reasons that counted only. */
export function workerDrops(counters: readonly WorkerCounters[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const c of counters)
    for (const [reason, n] of Object.entries(c.dataPath.drops)) if (n > 0) sum[reason] = (sum[reason] ?? 0) + n;
  return sum;
}

/** Per host and worker: busy / (busy + idle) of its event loop between two snapshots. */
export function loopUtilization(before: readonly WorkerCounters[][], after: readonly WorkerCounters[][]): number[][] {
  return after.map((host, h) =>
    host.map((w, i) => {
      const b = before[h]?.[i];
      const active = w.loopActiveMs - (b?.loopActiveMs ?? 0);
      const idle = w.loopIdleMs - (b?.loopIdleMs ?? 0);
      return active + idle > 0 ? active / (active + idle) : 0;
    }),
  );
}

/** Per host: frames per non-empty TAP read and slots per non-empty recv between two snapshots. */
export function batchSizes(
  before: readonly WorkerCounters[][],
  after: readonly WorkerCounters[][],
): { tap: number; recv: number }[] {
  const per = (h: number, key: 'tapReadBatches' | 'tunnelRecvBatches'): number => {
    let items = 0;
    let nonEmpty = 0;
    after[h].forEach((w, i) => {
      items += w[key].items - (before[h]?.[i]?.[key].items ?? 0);
      nonEmpty += w[key].nonEmpty - (before[h]?.[i]?.[key].nonEmpty ?? 0);
    });
    return nonEmpty === 0 ? 0 : items / nonEmpty;
  };
  return after.map((_, h) => ({ tap: per(h, 'tapReadBatches'), recv: per(h, 'tunnelRecvBatches') }));
}
