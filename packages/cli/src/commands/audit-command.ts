/** `dvs audit-log`: the controller API's audit history (admin only; docs/security.md). */
import type { Command } from 'commander';
import type { AuditRecord } from '@dvs/wire';
import { controllerClient, type CliContext, type ControllerOption } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { renderTable } from '../render/table.js';
import { runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption & { limit?: number; refused?: boolean };

function parseLimit(text: string): number {
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new UsageError(`--limit must be an integer in 1..100000, got "${text}"`);
  }
  return n;
}

/** What changed, in one short cell: the entry's name and the fields that differ. */
export function describeChange(r: AuditRecord): string {
  if (r.outcome !== 'allowed') return r.message ?? '';
  const before = r.before as Record<string, unknown> | null;
  const after = r.after as Record<string, unknown> | null;
  if (before === null && after === null) return '';
  if (before === null) return 'created';
  if (after === null) return 'deleted';
  const changed = Object.keys({ ...before, ...after }).filter(
    (k) => k !== 'updatedAt' && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  return changed.length === 0 ? 'unchanged' : `changed ${changed.join(', ')}`;
}

export function renderAuditLog(records: readonly AuditRecord[]): string {
  if (records.length === 0) return 'no audit records';
  return renderTable(
    [
      { header: 'TIME', value: (r: AuditRecord) => new Date(r.at).toISOString() },
      { header: 'WHO', value: (r: AuditRecord) => `${r.who.name}${r.who.role ? ` (${r.who.role})` : ''}` },
      { header: 'VIA', value: (r: AuditRecord) => `${r.who.method} ${r.who.address}` },
      { header: 'REQUEST', value: (r: AuditRecord) => `${r.request.method} ${r.request.path}` },
      { header: 'OUTCOME', value: (r: AuditRecord) => `${r.outcome} ${r.status}` },
      { header: 'WHAT', value: describeChange },
    ],
    records,
  );
}

export function addAuditCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('audit-log')
    .description('every write to the controller API, allowed or refused: who, what, before and after (needs admin)')
    .option('--limit <n>', 'only the newest n records', parseLimit)
    .option('--refused', 'only refused and failed writes');
  withWatch(withJson(withController(cmd)));
  helpAfter(
    cmd,
    ['dvs audit-log', 'dvs audit-log --limit 20', 'dvs audit-log --refused', 'dvs audit-log --json'],
    `{ "records": [ { "id", "at", "replica", "who": { "name", "role", "method": "token"|"certificate"|"insecure-local"|"none",
  "address" }, "request": { "method", "path", "route" }, "outcome": "allowed"|"refused"|"failed", "status",
  "code", "message", "before", "after" } ], "capacity" }
Oldest first. Refused writes beyond a few per second are logged by the controller but not kept.`,
  );
  cmd.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const answer = await client.auditLog(opts.limit);
      const records = opts.refused ? answer.records.filter((r) => r.outcome !== 'allowed') : answer.records;
      return { text: renderAuditLog(records), json: { ...answer, records }, problems: 0 };
    });
  });
}
