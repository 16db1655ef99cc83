/**
 * Text renderings of migration results: one move in detail (the demo's
 * migration report) and a series of moves with medians beside the targets of
 * issue 7 (the migration benchmark).
 */
import type { MigrationReport } from './migration.js';

/** Targets (per move, at the median): ≤ 1 lost ping (≤ 20 ms gap), table ≤ 200 ms, 0 flaps. */
export const MIGRATION_TARGETS = { lostPings: 1, longestGapMs: 20, tableConvergedMs: 200, flaps: 0 } as const;

const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'never' : `${Math.round(v)} ms`);

export function renderMigrationReport(r: MigrationReport): string {
  const lines = [
    `migration report: ${r.vm} (${r.mac}, VNI ${r.vni}) ${r.from} -> ${r.to}`,
    `  announce:                 ${r.announce}${r.announceRounds ? `, ${r.announceRounds} rounds` : ''}`,
  ];
  if (r.qemu) {
    const q = r.qemu;
    lines.push(
      `  QEMU downtime:            ${ms(q.downtimeMs)} (query-migrate); paused ${ms(q.pausedMs)} from STOP on ${r.from} to RESUME on ${r.to}; total ${ms(q.totalTimeMs)}, ${(q.transferredBytes / 1048576).toFixed(1)} MiB copied`,
    );
  }
  if (r.ping && r.ping.lostDuringDowntime !== undefined && r.ping.lostBeyondDowntime !== undefined) {
    lines.push(
      `  pings lost:               ${r.ping.lost} = ${r.ping.lostDuringDowntime} during QEMU's downtime (the VM was paused) + ${r.ping.lostBeyondDowntime} beyond it (what the network added; target <= ${MIGRATION_TARGETS.lostPings})`,
      `  longest gap:              ${r.ping.longestGapMs.toFixed(1)} ms${r.ping.longestGapAtMs === null ? '' : `, from ${Math.round(r.ping.longestGapAtMs)} ms after the resume`} (${r.ping.baselineGapMs.toFixed(1)} ms in the second before, without a move)`,
      `  duplicate replies (DUP!): ${r.ping.duplicates}`,
    );
  } else if (r.ping) {
    lines.push(
      `  pings lost:               ${r.ping.lost}   (target <= ${MIGRATION_TARGETS.lostPings})`,
      `  longest gap:              ${r.ping.longestGapMs.toFixed(1)} ms${r.ping.longestGapAtMs === null ? '' : `, from ${Math.round(r.ping.longestGapAtMs)} ms after switchover`}   (target <= ${MIGRATION_TARGETS.longestGapMs} ms; ${r.ping.baselineGapMs.toFixed(1)} ms in the second before, without a move)`,
      `  duplicate replies (DUP!): ${r.ping.duplicates}`,
    );
  } else {
    lines.push('  pings:                    not measured (no continuous ping)');
  }
  lines.push(
    `  every VTEP points to ${r.to}: ${ms(r.agentsConvergedMs)} after switchover (all agents and kernel hosts)`,
    r.observers.some((o) => o.kind === 'controller')
      ? `  controller table -> ${r.to}:  ${ms(r.controllerConvergedMs)} after switchover (target <= ${MIGRATION_TARGETS.tableConvergedMs} ms)`
      : `  controller table -> ${r.to}:  not measured (see note)`,
    ...(r.qemu
      ? [
          `  every VTEP and the controller -> ${r.to}: ${ms(r.qemu.allConvergedMs)} after QEMU resumed the VM`,
          `  source port on ${r.from}:       ${r.qemu.sourcePortState ?? 'already removed'} once QEMU quit, then released (ports/del)`,
        ]
      : []),
    `  flaps back to ${r.from}:       ${r.flaps}   (target ${MIGRATION_TARGETS.flaps})`,
    `  ${r.from} still holds the MAC:  ${r.oldHostHoldsMac ? 'YES (stale local entry)' : 'no'}`,
    '  per observer:',
  );
  for (const o of r.observers) {
    lines.push(
      `    ${o.name.padEnd(11)} ${o.kind.padEnd(10)} converged ${ms(o.convergedMs).padStart(8)}  final ${o.final}${o.flaps ? `  flaps ${o.flaps}` : ''}${o.errors ? `  (${o.errors} poll errors)` : ''}`,
    );
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface MigrationSeriesSummary {
  moves: number;
  medianLost: number | null;
  medianGapMs: number | null;
  medianBaselineGapMs: number | null;
  medianAgentsMs: number | null;
  medianControllerMs: number | null;
  totalFlaps: number;
  totalDuplicates: number;
  neverConverged: number;
  oldHostHeldMac: number;
}

export function summarizeMigrations(reports: readonly MigrationReport[]): MigrationSeriesSummary {
  const nums = (f: (r: MigrationReport) => number | null | undefined) =>
    reports.map(f).filter((v): v is number => typeof v === 'number');
  return {
    moves: reports.length,
    medianLost: median(nums((r) => r.ping?.lost)),
    medianGapMs: median(nums((r) => r.ping?.longestGapMs)),
    medianBaselineGapMs: median(nums((r) => r.ping?.baselineGapMs)),
    medianAgentsMs: median(nums((r) => r.agentsConvergedMs)),
    medianControllerMs: median(nums((r) => r.controllerConvergedMs)),
    totalFlaps: reports.reduce((a, r) => a + r.flaps, 0),
    totalDuplicates: reports.reduce((a, r) => a + (r.ping?.duplicates ?? 0), 0),
    neverConverged: reports.filter((r) => r.agentsConvergedMs === null).length,
    oldHostHeldMac: reports.filter((r) => r.oldHostHoldsMac).length,
  };
}

export function renderMigrationSeries(reports: readonly MigrationReport[]): string {
  const head = ['move', 'from->to', 'lost', 'gap ms', 'gap at', 'base gap', 'dups', 'agents ms', 'table ms', 'flaps'];
  const rows = reports.map((r, i) => [
    String(i + 1),
    `${r.from}->${r.to}`,
    r.ping ? String(r.ping.lost) : '-',
    r.ping ? r.ping.longestGapMs.toFixed(1) : '-',
    r.ping?.longestGapAtMs != null ? String(Math.round(r.ping.longestGapAtMs)) : '-',
    r.ping ? r.ping.baselineGapMs.toFixed(1) : '-',
    r.ping ? String(r.ping.duplicates) : '-',
    r.agentsConvergedMs === null ? 'never' : String(Math.round(r.agentsConvergedMs)),
    r.controllerConvergedMs === null ? 'never' : String(Math.round(r.controllerConvergedMs)),
    String(r.flaps),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const fmt = (row: string[]) => row.map((v, c) => v.padStart(widths[c])).join('  ');
  const s = summarizeMigrations(reports);
  const f = (v: number | null, digits = 0) => (v === null ? 'n/a' : v.toFixed(digits));
  return [
    fmt(head),
    ...rows.map(fmt),
    '',
    '(gap at: ms after the switchover when the longest gap began; negative: before it)',
    `medians over ${s.moves} moves (target in brackets):`,
    `  lost pings        ${f(s.medianLost, 1)}   [<= ${MIGRATION_TARGETS.lostPings}]`,
    `  longest gap       ${f(s.medianGapMs, 1)} ms   [<= ${MIGRATION_TARGETS.longestGapMs} ms]  (same ping without a move: ${f(s.medianBaselineGapMs, 1)} ms)`,
    `  agents converged  ${f(s.medianAgentsMs)} ms`,
    `  table converged   ${f(s.medianControllerMs)} ms   [<= ${MIGRATION_TARGETS.tableConvergedMs} ms]`,
    `  flaps (total)     ${s.totalFlaps}   [${MIGRATION_TARGETS.flaps}]`,
    `  duplicates        ${s.totalDuplicates}`,
    `  moves where an agent never converged: ${s.neverConverged}; where the old host kept the MAC: ${s.oldHostHeldMac}`,
  ].join('\n');
}
