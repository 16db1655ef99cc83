/**
 * What a flow export feature costs the dvs VXLAN path, in % of throughput.
 * On a shared, loaded machine two paths measured a minute apart differ by
 * more than the feature could cost; so the feature is switched off and on
 * (through the agents' admin sockets) on the one built path, in pairs of
 * short iperf3 runs (TCP ×1, then UDP 64 B; every other pair measures "on"
 * first, so a drift within a pair does not always count against the
 * feature), and each pair gives one ratio: 1 − on / off. The agents' CPU
 * time per GB moved during the TCP runs is compared the same way: CPU is
 * less at the mercy of other processes than throughput is.
 * report.ts prints the medians and the spread.
 */
import { AdminClient } from '@dvs/admin-client';
import { IPERF_PORT, agentCpuTicks, iperf, warmUp, type MeasureOptions } from './measure.js';
import type { BuiltPath } from './topologies.js';

export interface FlowFeature {
  what: string;
  /** Target cost in % of throughput (issue 13: ≤ 5 % for both). */
  targetPct: number;
  on: { command: string; args: string[] };
  off: { command: string; args: string[] };
}

/**
 * sFlow at 1-in-1000 and IPFIX, as an operator would turn them on. The
 * collector is the host namespace's own loopback, where nothing listens: the
 * exporters do all their work and the datagrams go nowhere.
 */
export const FLOW_FEATURES: readonly FlowFeature[] = [
  {
    what: 'sFlow 1-in-1000',
    targetPct: 5,
    on: { command: 'sflow/set', args: ['127.0.0.1:6343', 'sampling=1000', 'polling=20'] },
    off: { command: 'sflow/set', args: ['off'] },
  },
  {
    what: 'IPFIX',
    targetPct: 5,
    on: { command: 'ipfix/set', args: ['127.0.0.1:4739'] },
    off: { command: 'ipfix/set', args: ['off'] },
  },
];

/** Per feature: one cost (1 − on/off) per pair, for TCP ×1 and UDP 64 B received. */
export interface FeatureCostSample {
  what: string;
  targetPct: number;
  tcp1: number[];
  udp64: number[];
  /** 1 − (agent CPU per GB off) / (on): the share of the agents' CPU the feature takes (TCP ×1). */
  cpu: number[];
}

export async function measureFeatureCosts(
  path: BuiltPath,
  o: MeasureOptions & { pairs: number },
): Promise<FeatureCostSample[]> {
  await warmUp(path, o.signal);
  const clients = path.agentSockets.map((s) => new AdminClient(s));
  const server = path.resources.spawn(path.receiver.netns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
  const set = async (c: { command: string; args: string[] }): Promise<void> => {
    for (const client of clients) await client.call(c.command, c.args, { timeoutMs: 5000 });
  };
  const once = async (): Promise<{ tcp1: number; udp64: number; cpuPerByte: number }> => {
    const before = await agentCpuTicks(path.agentPids);
    const tcp = await iperf(path, [], o);
    const ticks = (await agentCpuTicks(path.agentPids)) - before;
    const udp = await iperf(path, ['-u', '-l', '64', '-b', '0'], o);
    const u = udp.end!.sum!;
    const r = tcp.end!.sum_received!;
    return { tcp1: r.bits_per_second, udp64: (u.packets - u.lost_packets) / u.seconds, cpuPerByte: ticks / r.bytes };
  };
  try {
    const out: FeatureCostSample[] = [];
    for (const f of FLOW_FEATURES) {
      const sample: FeatureCostSample = { what: f.what, targetPct: f.targetPct, tcp1: [], udp64: [], cpu: [] };
      for (let k = 0; k < o.pairs; k++) {
        const measure = async (c: { command: string; args: string[] }) => (await set(c), await once());
        const [off, on] =
          k % 2 === 0
            ? [await measure(f.off), await measure(f.on)]
            : [await measure(f.on), await measure(f.off)].reverse();
        sample.tcp1.push(1 - on!.tcp1 / off!.tcp1);
        sample.udp64.push(1 - on!.udp64 / off!.udp64);
        sample.cpu.push(1 - off!.cpuPerByte / on!.cpuPerByte);
      }
      await set(f.off);
      out.push(sample);
    }
    return out;
  } finally {
    server.kill('SIGTERM');
    for (const c of clients) c.close();
  }
}
