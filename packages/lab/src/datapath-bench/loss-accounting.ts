/**
 * Where the UDP test's packets were lost. iperf3 reports sent − received;
 * this splits the difference over every place that counts a drop, read
 * before and after the test:
 *  - senderNic: TX dropped on the sending VM's NIC. For a TAP that is the tun
 *    ring (txqueuelen frames) overflowing while the agent is busy: the sender
 *    outrunning the switch, counted by the kernel.
 *  - agents: the dvs agents' own drop counters (every reason, plus per-port
 *    and per-peer tx drops).
 *  - hostSockets: UDP receive-buffer drops in the host namespaces (the
 *    agents' tunnel sockets), a queue that would otherwise drop silently.
 *  - receiverSocket: UDP receive-buffer drops in the receiving VM (iperf3
 *    not keeping up).
 * What no counter explains is `unaccounted` (ideally 0; packets still in
 * flight when iperf3 stops can make it a few dozen either way).
 */
import { AdminClient } from '@dvs/admin-client';
import type { BenchResources } from './bench-resources.js';
import type { BuiltPath } from './topologies.js';

export interface LossCounters {
  senderNic: number;
  agents: number | null;
  hostSockets: number;
  receiverSocket: number;
}

export interface UdpLoss extends LossCounters {
  /** Packets iperf3 sent and lost (its receiver's sequence gaps). */
  sent: number;
  lost: number;
  unaccounted: number;
}

/** `Udp: … RcvbufErrors …` of /proc/net/snmp as the namespace sees it. */
export function udpReceiveBufferErrors(snmp: string): number {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return 0;
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const i = names.indexOf('RcvbufErrors');
  return i < 0 ? 0 : Number(values[i]) || 0;
}

async function socketDrops(resources: BenchResources, ns: string): Promise<number> {
  const r = await resources.exec(ns, ['cat', '/proc/net/snmp'], { allowFailure: true });
  return udpReceiveBufferErrors(r.stdout);
}

async function nicTxDropped(resources: BenchResources, ns: string, ifname: string): Promise<number> {
  const r = await resources.exec(ns, ['ip', '-s', '-j', 'link', 'show', 'dev', ifname], { allowFailure: true });
  try {
    const [link] = JSON.parse(r.stdout) as Array<{ stats64?: { tx?: { dropped?: number } } }>;
    return link?.stats64?.tx?.dropped ?? 0;
  } catch {
    return 0;
  }
}

async function agentDrops(sockets: readonly string[]): Promise<number | null> {
  if (sockets.length === 0) return null;
  let total = 0;
  for (const socket of sockets) {
    const client = new AdminClient(socket);
    try {
      const c = (await client.call('counters/show', [], { timeoutMs: 3000 })).data;
      for (const v of Object.values(c.drops)) total += v;
      for (const p of Object.values(c.ports)) total += p.txDrops;
      for (const p of Object.values(c.peers)) total += p.txDrops;
    } finally {
      client.close();
    }
  }
  return total;
}

export async function readLossCounters(path: BuiltPath): Promise<LossCounters> {
  let hostSockets = 0;
  for (const ns of path.hostNamespaces) hostSockets += await socketDrops(path.resources, ns);
  return {
    senderNic: await nicTxDropped(path.resources, path.sender.netns, path.sender.ifname),
    agents: await agentDrops(path.agentSockets),
    hostSockets,
    receiverSocket: await socketDrops(path.resources, path.receiver.netns),
  };
}

export function lossBetween(before: LossCounters, after: LossCounters, sent: number, lost: number): UdpLoss {
  const agents = after.agents === null || before.agents === null ? null : after.agents - before.agents;
  const senderNic = after.senderNic - before.senderNic;
  const hostSockets = after.hostSockets - before.hostSockets;
  const receiverSocket = after.receiverSocket - before.receiverSocket;
  return {
    sent,
    lost,
    senderNic,
    agents,
    hostSockets,
    receiverSocket,
    unaccounted: lost - senderNic - (agents ?? 0) - hostSockets - receiverSocket,
  };
}
