/**
 * One measurement set over a topology: iperf3 TCP with 1 and 4 streams,
 * iperf3 UDP with 64-byte payloads (packets the receiver got per second, and
 * loss), a 10 ms ping (avg and p99 RTT), and the CPU time the dvs agents spent
 * per GB moved during the single-stream TCP run.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { runInNamespace } from '../src/command-runner.js';
import { parsePingLine } from '../src/continuous-ping.js';
import type { Topology } from './datapath-topologies.js';

export interface DatapathSample {
  tcp1Gbps: number;
  tcp1Retransmits: number;
  tcp4Gbps: number;
  tcp4Retransmits: number;
  udp64RxPps: number;
  udp64LossPct: number;
  pingAvgMs: number;
  pingP99Ms: number;
  /** CPU seconds of all dvs agents per GB received (TCP single stream); null without agents. */
  agentCpuSecondsPerGB: number | null;
}

const CLOCK_TICKS_PER_SECOND = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cpuTicks(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  }
  return total;
}

interface IperfJson {
  end: {
    sum_sent?: { retransmits?: number; bytes: number; seconds: number };
    sum_received?: { bytes: number; seconds: number; bits_per_second: number };
    sum?: { packets: number; lost_packets: number; lost_percent: number; seconds: number };
  };
  error?: string;
}

/** One iperf3 run: a one-off server in B, the client in A. */
async function iperf(t: Topology, args: string[], seconds: number): Promise<IperfJson> {
  const server = spawn('ip', ['netns', 'exec', t.b.netns, 'iperf3', '-s', '-1', '-p', '5201'], { stdio: 'ignore' });
  try {
    for (let attempt = 0; ; attempt++) {
      await sleep(attempt === 0 ? 200 : 300);
      const r = await runInNamespace(
        t.a.netns,
        ['iperf3', '-c', t.b.address, '-p', '5201', '-t', String(seconds), '-J', ...args],
        { allowFailure: true, timeoutMs: (seconds + 30) * 1000 },
      );
      const json = JSON.parse(r.stdout || '{}') as IperfJson;
      if (json.end?.sum_received || json.end?.sum) return json;
      if (attempt >= 5) throw new Error(`iperf3 ${args.join(' ')} on ${t.name}: ${json.error ?? r.stderr}`);
    }
  } finally {
    server.kill('SIGKILL');
  }
}

async function pingRtt(t: Topology, seconds: number): Promise<{ avg: number; p99: number }> {
  const count = Math.max(50, Math.round((seconds * 1000) / 10));
  const r = await runInNamespace(
    t.a.netns,
    ['ping', '-n', '-D', '-i', '0.01', '-c', String(count), '-W', '1', t.b.address],
    {
      allowFailure: true,
      timeoutMs: (seconds + 20) * 1000,
    },
  );
  const rtts = r.stdout
    .split('\n')
    .map((l) => parsePingLine(l))
    .filter((p) => p !== null && !p.duplicate)
    .map((p) => p!.reply.rttMs)
    .sort((x, y) => x - y);
  if (rtts.length === 0) return { avg: NaN, p99: NaN };
  const avg = rtts.reduce((s, v) => s + v, 0) / rtts.length;
  const p99 = rtts[Math.min(rtts.length - 1, Math.ceil(rtts.length * 0.99) - 1)];
  return { avg, p99 };
}

export async function measure(t: Topology, seconds: number): Promise<DatapathSample> {
  const before = await cpuTicks(t.agentPids);
  const tcp1 = await iperf(t, [], seconds);
  const after = await cpuTicks(t.agentPids);
  const tcp4 = await iperf(t, ['-P', '4'], seconds);
  const udp = await iperf(t, ['-u', '-l', '64', '-b', '0'], seconds);
  const ping = await pingRtt(t, seconds);
  const received = tcp1.end.sum_received!;
  const udpSum = udp.end.sum!;
  const udpReceived = udpSum.packets - udpSum.lost_packets;
  return {
    tcp1Gbps: received.bits_per_second / 1e9,
    tcp1Retransmits: tcp1.end.sum_sent?.retransmits ?? 0,
    tcp4Gbps: tcp4.end.sum_received!.bits_per_second / 1e9,
    tcp4Retransmits: tcp4.end.sum_sent?.retransmits ?? 0,
    udp64RxPps: udpReceived / udpSum.seconds,
    udp64LossPct: udpSum.lost_percent,
    pingAvgMs: ping.avg,
    pingP99Ms: ping.p99,
    agentCpuSecondsPerGB:
      t.agentPids.length === 0 ? null : (after - before) / CLOCK_TICKS_PER_SECOND / (received.bytes / 1e9),
  };
}
