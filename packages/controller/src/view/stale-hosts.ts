/**
 * Lease loss without ejection. When a host's etcd lease expires, etcd deletes
 * its host record, ports and MAC reports at once. That proves only that the
 * host lost etcd, not that it stopped forwarding: the underlay between hosts
 * may be fine. So the view keeps what the host had claimed, **stale**: the
 * tables go on using it (FDB entries flagged `stale`, the host kept in flood
 * lists), until one of these (the stale policy):
 *
 *  1. the grace period (`graceMs`, default 10 min) has passed since the lease
 *     was lost;
 *  2. with `probes` on (default): the other hosts' tunnel probes say the host
 *     is down too — at least one live host reports its tunnel to it `down`
 *     and none reports it `up` (their `status/<host>` records);
 *  3. the host registered again: each record it publishes anew replaces its
 *     stale one at once; what it has not published again within
 *     `returnWindowMs` (default 15 s) goes.
 *
 * `graceMs: 0` turns it off: a lost host is ejected at once. A host that
 * leaves cleanly (SIGTERM) deletes its ports and reports before revoking its
 * lease, so nothing of it is left to keep. The memory lives in every
 * replica's view (each saw the same deletions), so a new leader keeps it.
 */
import type { HostRecord, PortRecord, ReportRecord, TunnelStatusRecord } from '@dvs/wire';

export interface StalePolicy {
  /** Longest time a lost host's records are kept, ms; 0: eject at once. */
  graceMs: number;
  /** Drop them as soon as other hosts' tunnel probes see the host down. */
  probes: boolean;
  /** After the host registers again, how long a record it has not republished stays, ms. */
  returnWindowMs: number;
}

export const DEFAULT_STALE_POLICY: StalePolicy = { graceMs: 600_000, probes: true, returnWindowMs: 15_000 };

export interface StaleRecord<T> {
  record: T;
  modRevision: number;
  lease: string;
}

export interface StaleHost {
  host: string;
  /** Its last host record and lease. */
  record: HostRecord;
  lease: string;
  lostAt: number;
  /** When it registered again (null while away). */
  returnedAt: number | null;
  /** Reports by etcd key. */
  reports: Map<string, StaleRecord<ReportRecord>>;
  /** Ports by `${host}/${port}`. */
  ports: Map<string, StaleRecord<PortRecord>>;
}

export type StaleEnd = 'grace' | 'probes' | 'returned';

/**
 * What the other hosts' probes say about `lost`: `down` when at least one
 * reports its tunnel down and none reports it up; `up` when one reports it
 * up; `none` when nobody monitors a tunnel to it.
 */
export function probeEvidence(
  lost: { host: string; record: HostRecord },
  statuses: Iterable<TunnelStatusRecord>,
): 'down' | 'up' | 'none' {
  let down = false;
  for (const status of statuses) {
    if (status.host === lost.host) continue;
    for (const peer of status.peers) {
      if (peer.host !== lost.host && peer.vtep.address !== lost.record.vtep.address) continue;
      if (peer.state === 'up') return 'up';
      if (peer.state === 'down') down = true;
    }
  }
  return down ? 'down' : 'none';
}

/** Why the stale memory of a host ends now, or null while it stays. */
export function staleEnd(
  stale: StaleHost,
  policy: StalePolicy,
  now: number,
  evidence: 'down' | 'up' | 'none',
): StaleEnd | null {
  if (stale.returnedAt !== null) {
    if (stale.reports.size === 0 && stale.ports.size === 0) return 'returned';
    if (now - stale.returnedAt >= policy.returnWindowMs) return 'returned';
    return null;
  }
  if (now - stale.lostAt >= policy.graceMs) return 'grace';
  if (policy.probes && evidence === 'down') return 'probes';
  return null;
}
