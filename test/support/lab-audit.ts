import assert from 'node:assert/strict';
import type { Lab } from '@dvs/lab';
import type { DivergencesView, DivergenceView } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { runDvs } from './dvs-cli.js';

/**
 * `dvs audit --json` against the lab's controller: its exit status (0 clean,
 * 1 divergent; anything else fails the test) and what it reports.
 */
export async function labAudit(lab: Lab): Promise<{ status: number; view: DivergencesView }> {
  const r = await runDvs(['--lab', lab.id, 'audit', '--json']);
  assert.ok(r.code === 0 || r.code === 1, `dvs audit: ${r.stdout}${r.stderr}`);
  return { status: r.code, view: JSON.parse(r.stdout) as DivergencesView };
}

/**
 * Waits until an audit is clean and checked `hosts` hosts (every agent has
 * published a digest that matches the tables); returns that audit's view.
 */
export async function waitForCleanAudit(lab: Lab, hosts: number, what: string): Promise<DivergencesView> {
  return waitFor(
    what,
    async () => {
      const r = await labAudit(lab);
      return r.status === 0 && r.view.checkedHosts === hosts ? r.view : undefined;
    },
    30_000,
    500,
  );
}

/** Waits until an audit is divergent and names the FDB entry of `mac`; returns the view and that divergence. */
export async function waitForFdbDivergence(
  lab: Lab,
  mac: string,
  what: string,
): Promise<{ view: DivergencesView; d: DivergenceView }> {
  return waitFor(
    what,
    async () => {
      const r = await labAudit(lab);
      const d = r.view.divergences.find((x) => x.table === 'fdb' && x.mac === mac);
      return r.status === 1 && d !== undefined ? { view: r.view, d } : undefined;
    },
    30_000,
    500,
  );
}
