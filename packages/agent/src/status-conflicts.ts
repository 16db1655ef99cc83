import { MAX_STATUS_CONFLICTS, type LearnConflictRecord } from '@dvs/wire';
import type { LearnConflictView } from './datapath/provisional-moves.js';

/**
 * The data path's recent learn conflicts as the status record's `conflicts`
 * (newest first, at most MAX_STATUS_CONFLICTS): a MAC held by a local port
 * is one the controller places at this host's own VTEP.
 */
export function statusConflicts(conflicts: readonly LearnConflictView[], ownVtep: string): LearnConflictRecord[] {
  return conflicts.slice(0, MAX_STATUS_CONFLICTS).map((c) => ({
    vni: c.vni,
    mac: c.mac,
    claimedBy: c.claimedBy,
    controllerVtep: c.home.kind === 'port' ? ownVtep : c.home.name,
    outcome: c.outcome,
    count: c.count,
    lastAt: c.lastAt,
  }));
}
