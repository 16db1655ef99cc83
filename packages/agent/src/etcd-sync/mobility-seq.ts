/**
 * The seq an agent reports for a MAC it sees locally (RFC 7432 §15):
 *  - the authoritative FDB places the MAC at another host with seq s → s + 1
 *    (the MAC moved here; the higher seq makes the controller follow it);
 *  - it places it here already with seq s → s (no new move);
 *  - no entry → the data path's own seq (0 for a MAC never seen).
 * Never lower than what the data path says (it counts remote→local moves).
 */
import type { FdbEntryRecord } from '@dvs/wire';
import { compareVteps, MAX_SEQ } from '@dvs/wire';

export function seqToReport(dataPathSeq: number, entry: FdbEntryRecord | undefined, selfHost: string): number {
  let seq = Math.max(0, dataPathSeq);
  if (entry !== undefined) seq = Math.max(seq, entry.host === selfHost ? entry.seq : entry.seq + 1);
  return Math.min(seq, MAX_SEQ);
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
