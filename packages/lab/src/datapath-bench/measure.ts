/**
 * One measurement set over a built path, in this order: iperf3 TCP with one
 * stream, with 4 streams, iperf3 UDP with 64-byte payloads at full speed
 * (`-b 0`), then a 10 ms ping. The dvs agents' CPU time (utime + stime from
 * /proc/<pid>/stat, all threads) is read around both TCP runs and divided by
 * the bytes they delivered: CPU seconds per GB moved.
 */
import { readFile } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { lossBetween, readLossCounters, type UdpLoss } from './loss-accounting.js';
import type { BuiltPath } from './topologies.js';

export interface PathSample {
  tcp1Gbps: number;
  tcp1Retransmits: number;
  tcp4Gbps: number;
  tcp4Retransmits: number;
  /** Packets the receiving iperf3 got per second. */
  udp64RxPps: number;
  udp64SentPps: number;
  udp64LossPct: number;
  /** Where the UDP test's lost packets went (loss-accounting.ts). */
  udp64Loss: UdpLoss;
  pingAvgMs: number;
  pingP99Ms: number;
  pingLost: number;
  /** CPU seconds of all dvs agents per GB delivered during the TCP runs; null without agents. */
  agentCpuSecondsPerGB: number | null;
}

export interface MeasureOptions {
  /** iperf3 `-t` per test. */
  seconds: number;
  /** Pings at 10 ms. */
  pingCount: number;
  signal?: AbortSignal;
}

/** What iperf(), ping() and warmUp() need of a path: its two VMs and where to run commands (BuiltPath is one). */
export type VmPair = Pick<BuiltPath, 'resources' | 'sender' | 'receiver' | 'agentLogs'> & { name: string };

export const IPERF_PORT = 5201;
export const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64 and arm64

export interface IperfReport {
  error?: string;
  end?: {
    sum_sent?: { bytes: number; retransmits?: number; seconds: number };
    sum_received?: { bytes: number; bits_per_second: number; seconds: number };
    sum?: { packets: number; lost_packets: number; lost_percent: number; seconds: number };
  };
}

export async function agentCpuTicks(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += Number(f[11]) + Number(f[12]);
  }
  return total;
}

export async function iperf(path: VmPair, args: readonly string[], o: MeasureOptions): Promise<IperfReport> {
  for (let attempt = 0; ; attempt++) {
    const r = await path.resources.exec(
      path.sender.netns,
      [
        'iperf3',
        '-c',
        path.receiver.address,
        '-p',
        String(IPERF_PORT),
        '-t',
        String(o.seconds),
        '-J',
        '--connect-timeout',
        '1000',
        ...args,
      ],
      { allowFailure: true, timeoutMs: (o.seconds + 30) * 1000, signal: o.signal },
    );
    let report: IperfReport = {};
    try {
      report = JSON.parse(r.stdout) as IperfReport;
    } catch {
      // Not JSON: judged below.
    }
    if (r.code === 0 && report.error === undefined && report.end) return report;
    // The server may still be starting (or finishing the previous test): retry that only.
    const busy = /refused|busy|unable to connect|control socket/i.test(`${report.error ?? ''} ${r.stderr}`);
    if (!busy || attempt >= 20) {
      throw new LabError(
        'DVS_LAB_COMMAND_FAILED',
        `iperf3 ${args.join(' ')} on ${path.name}: ${report.error ?? (r.stderr.trim() || `exit ${r.code}`)}`,
      );
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** RTTs (ms) of `count` pings at 10 ms (or `intervalS`); lost ones are counted, not averaged. */
export async function ping(
  path: VmPair,
  o: Pick<MeasureOptions, 'pingCount' | 'signal'> & { intervalS?: number },
): Promise<{ rtts: number[]; lost: number }> {
  const r = await path.resources.exec(
    path.sender.netns,
    ['ping', '-n', '-i', String(o.intervalS ?? 0.01), '-c', String(o.pingCount), '-W', '1', path.receiver.address],
    { allowFailure: true, timeoutMs: (o.pingCount / 100 + 20) * 1000, signal: o.signal },
  );
  const rtts = [...r.stdout.matchAll(/icmp_seq=\d+ ttl=\d+ time=([\d.]+) ms(?! \(DUP!\))/g)].map((m) => Number(m[1]));
  return { rtts, lost: Math.max(0, o.pingCount - rtts.length) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))];
}

/** Waits until the receiver answers a ping (ARP resolved, agents learned): at most ~5 s. */
export async function warmUp(path: VmPair, signal?: AbortSignal): Promise<void> {
  const r = await path.resources.exec(
    path.sender.netns,
    ['ping', '-n', '-c', '1', '-w', '5', '-i', '0.05', path.receiver.address],
    { allowFailure: true, timeoutMs: 10_000, signal },
  );
  if (r.code !== 0) {
    const logs = path.agentLogs.length > 0 ? ` (agent logs: ${path.agentLogs.join(', ')})` : '';
    throw new LabError('DVS_LAB_COMMAND_FAILED', `${path.name}: the VMs cannot reach each other${logs}`);
  }
}

export async function measurePath(path: BuiltPath, o: MeasureOptions): Promise<PathSample> {
  await warmUp(path, o.signal);
  const server = path.resources.spawn(path.receiver.netns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
  try {
    const cpuBefore = await agentCpuTicks(path.agentPids);
    const tcp1 = await iperf(path, [], o);
    const tcp4 = await iperf(path, ['-P', '4'], o);
    const cpuAfter = await agentCpuTicks(path.agentPids);
    const lossBefore = await readLossCounters(path);
    const udp = await iperf(path, ['-u', '-l', '64', '-b', '0'], o);
    // Let the last packets drain through the agents before counting.
    await new Promise((res) => setTimeout(res, 300));
    const lossAfter = await readLossCounters(path);
    const { rtts, lost } = await ping(path, o);
    const sorted = [...rtts].sort((a, b) => a - b);
    const r1 = tcp1.end!.sum_received!;
    const r4 = tcp4.end!.sum_received!;
    const u = udp.end!.sum!;
    const gb = (r1.bytes + r4.bytes) / 1e9;
    return {
      tcp1Gbps: r1.bits_per_second / 1e9,
      tcp1Retransmits: tcp1.end!.sum_sent?.retransmits ?? 0,
      tcp4Gbps: r4.bits_per_second / 1e9,
      tcp4Retransmits: tcp4.end!.sum_sent?.retransmits ?? 0,
      udp64RxPps: (u.packets - u.lost_packets) / u.seconds,
      udp64SentPps: u.packets / u.seconds,
      udp64LossPct: u.lost_percent,
      udp64Loss: lossBetween(lossBefore, lossAfter, u.packets, u.lost_packets),
      pingAvgMs: sorted.length === 0 ? NaN : sorted.reduce((s, v) => s + v, 0) / sorted.length,
      pingP99Ms: percentile(sorted, 99),
      pingLost: lost,
      agentCpuSecondsPerGB:
        path.agentPids.length === 0 || gb === 0 ? null : (cpuAfter - cpuBefore) / CLOCK_TICKS_PER_SECOND / gb,
    };
  } finally {
    server.kill('SIGTERM');
  }
}
