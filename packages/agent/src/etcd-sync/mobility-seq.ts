/**
 * The seq an agent reports for a MAC it sees locally (RFC 7432 §15):
 *  - the authoritative FDB places the MAC at another host with seq s → s + 1
 *    (the MAC moved here; the higher seq makes the controller follow it);
 *  - it places it here already with seq s → s, or s + 1 when the data path
 *    counted a move since (remote→local) the table has not seen;
 *  - no entry → the data path's own seq (0 for a MAC never seen), at most 1.
 * Never more than seqBound(): the controller ignores a report more than one
 * above the seq it knows (so no host can pin a MAC with MAX_SEQ), and a
 * report it ignores would leave the MAC out of the FDB.
 */
import type { FdbEntryRecord } from '@dvs/wire';
import { compareVteps, MAX_SEQ } from '@dvs/wire';

/** The highest seq the controller accepts for a MAC whose entry (as this host sees it) is `entry`. */
export function seqBound(entry: FdbEntryRecord | undefined): number {
  return Math.min(entry === undefined ? 1 : entry.seq + 1, MAX_SEQ);
}

export function seqToReport(dataPathSeq: number, entry: FdbEntryRecord | undefined, selfHost: string): number {
  let seq = Math.max(0, dataPathSeq);
  if (entry !== undefined) seq = Math.max(seq, entry.host === selfHost ? entry.seq : entry.seq + 1);
  return Math.min(seq, seqBound(entry));
}

/**
 * True when our report for a MAC lost to the authoritative entry (RFC 7432
 * §15: withdraw the route): the entry places the MAC at another host with a
 * higher seq, or with the same seq and a lower VTEP address than ours (the
 * controller's tie-break). A tie we would win is kept: the controller has
 * just not seen our report yet, and withdrawing would make the outcome
 * depend on arrival order.
 */
export function reportLost(
  reportSeq: number,
  entry: FdbEntryRecord | undefined,
  selfHost: string,
  selfAddress: string,
): boolean {
  if (entry === undefined || entry.origin !== 'report' || entry.host === selfHost) return false;
  if (entry.seq !== reportSeq) return entry.seq > reportSeq;
  return compareVteps(entry.vtep, { address: selfAddress, port: entry.vtep.port }) < 0;
}
