/**
 * Tunnel health as the `status/<host>` record (wire TunnelStatusRecord) and
 * as the peer rows of `tunnels/show`: one shape for etcd, the admin socket
 * and the CLI. Data-path counters per peer come from the agent; without them
 * the rx/tx fields are 0.
 */
import type { PeerTunnelStatus, TunnelStatusRecord } from '@dvs/wire';
import type { TunnelSnapshot } from './tunnel-session.js';

export interface PeerTrafficCounters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

/** Looks up the data path's counters of a peer VTEP; undefined when it has none. */
export type PeerCountersLookup = (vtep: { address: string; port: number }) => PeerTrafficCounters | undefined;

const ZERO_COUNTERS: PeerTrafficCounters = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 };

/** Rounds to microseconds: RTTs in records need no more, and JSON stays short. */
function us(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function peerTunnelStatus(snapshot: TunnelSnapshot, counters?: PeerCountersLookup): PeerTunnelStatus {
  const { last, avg, p99 } = snapshot.rttMs;
  const traffic = counters?.(snapshot.peer) ?? ZERO_COUNTERS;
  return {
    vtep: { ...snapshot.peer },
    host: snapshot.host,
    encap: snapshot.encap,
    state: snapshot.state,
    rtt: last !== null && avg !== null && p99 !== null ? { lastMs: us(last), avgMs: us(avg), p99Ms: us(p99) } : null,
    lossPct: snapshot.lossPercent === null ? 0 : Math.round(snapshot.lossPercent * 100) / 100,
    lastChange: snapshot.since,
    reason: snapshot.reason,
    rxPackets: traffic.rxPackets,
    txPackets: traffic.txPackets,
    rxBytes: traffic.rxBytes,
    txBytes: traffic.txBytes,
  };
}

/** The `status/<host>` record for etcd (encode with wire's encodeTunnelStatus). */
export function tunnelStatusRecord(
  host: string,
  snapshots: readonly TunnelSnapshot[],
  updatedAt: number,
  counters?: PeerCountersLookup,
): TunnelStatusRecord {
  return { host, peers: snapshots.map((s) => peerTunnelStatus(s, counters)), updatedAt };
}
