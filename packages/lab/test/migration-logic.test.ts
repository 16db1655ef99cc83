import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qemuAnnounceOffsets, watchConvergence, type MigrationReport } from '../src/migration.js';
import { median, summarizeMigrations } from '../src/migration-report.js';
import type { MacObserver } from '../src/mac-location.js';

test("QEMU's announce schedule: 5 rounds at 0, 50, 200, 450, 800 ms", () => {
  assert.deepEqual(qemuAnnounceOffsets(), [0, 50, 200, 450, 800]);
  // The gap is capped at max.
  assert.deepEqual(qemuAnnounceOffsets({ rounds: 4, initialMs: 100, stepMs: 300, maxMs: 350 }), [0, 100, 450, 800]);
});

function scripted(name: string, answers: string[]): MacObserver {
  let i = 0;
  return { name, kind: 'agent', locate: async () => answers[Math.min(i++, answers.length - 1)] };
}

test('watchConvergence records when each observer points to the destination for good', async () => {
  const t0 = Date.now();
  const results = await watchConvergence([scripted('a', ['h1', 'h1', 'h2']), scripted('b', ['h2'])], 'h1', 'h2', t0, {
    pollMs: 2,
    holdMs: 30,
    timeoutMs: 1000,
  });
  assert.equal(results.length, 2);
  for (const r of results) {
    assert.notEqual(r.convergedMs, null, r.name);
    assert.equal(r.final, 'h2');
    assert.equal(r.flaps, 0);
  }
});

test('watchConvergence counts a flap back to the source and restarts the convergence clock', async () => {
  const results = await watchConvergence([scripted('a', ['h2', 'h1', 'h2'])], 'h1', 'h2', Date.now(), {
    pollMs: 2,
    holdMs: 20,
    timeoutMs: 1000,
  });
  assert.equal(results[0].flaps, 1);
  assert.equal(results[0].final, 'h2');
});

test('watchConvergence gives up after the timeout and says never', async () => {
  const results = await watchConvergence([scripted('a', ['h1'])], 'h1', 'h2', Date.now(), {
    pollMs: 2,
    holdMs: 10,
    timeoutMs: 50,
  });
  assert.equal(results[0].convergedMs, null);
  assert.equal(results[0].final, 'h1');
});

test('median and the series summary', () => {
  assert.equal(median([]), null);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const r = (lost: number, agents: number | null, flaps = 0): MigrationReport => ({
    vm: 'vm1',
    mac: '02:00:00:00:00:01',
    vni: 100,
    from: 'h1',
    to: 'h2',
    switchoverAt: 0,
    announce: 'x',
    announceRounds: 5,
    observers: [],
    agentsConvergedMs: agents,
    controllerConvergedMs: null,
    flaps,
    oldHostHoldsMac: false,
    ping: { lost, longestGapMs: lost * 10 + 10, longestGapAtMs: 0, duplicates: 0, received: 100, baselineGapMs: 10 },
    notes: [],
  });
  const s = summarizeMigrations([r(0, 20), r(1, 40), r(3, null, 1)]);
  assert.equal(s.moves, 3);
  assert.equal(s.medianLost, 1);
  assert.equal(s.medianAgentsMs, 30);
  assert.equal(s.neverConverged, 1);
  assert.equal(s.totalFlaps, 1);
});
