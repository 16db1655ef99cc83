/**
 * "No allocation per frame on the hot path", measured: after a warm-up, a
 * million frames through each pipeline path — VXLAN and GRE-in-UDP, encap,
 * local delivery, flood, decap from IPv4 and IPv6 peers, garbage — must not
 * trigger a single garbage collection (one 16-byte allocation per frame would
 * fill the young generation several times over), and every frame must come
 * out where it should (the devices and sockets count what they take), so the
 * path measured is the path that switched.
 *
 * The measuring runs in a child process with the JIT compiling on the main
 * thread (alloc-probe.ts says why).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipelineCases, pipelineRig } from './pipeline-rig.js';

interface Measured {
  name: string;
  frames: number;
  gcs: number;
  out: Record<string, number>;
  drops: Record<string, number>;
}

test('no garbage collection while switching a million frames on each path, and every frame comes out', () => {
  const probe = fileURLToPath(new URL('./alloc-probe.js', import.meta.url));
  const child = spawnSync(process.execPath, ['--expose-gc', '--no-concurrent-recompilation', probe], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const measured = child.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Measured);
  const cases = pipelineCases(pipelineRig());
  assert.deepEqual(
    measured.map((m) => m.name),
    cases.map((c) => c.name),
    'every path measured',
  );
  for (const [i, m] of measured.entries()) {
    const expected = Object.fromEntries(Object.entries(cases[i]!.outPerFrame).map(([k, v]) => [k, v * m.frames]));
    assert.equal(m.gcs, 0, `${m.name}: ${m.gcs} garbage collections`);
    assert.deepEqual(m.out, expected, `${m.name}: frames out`);
    const dropped = m.name.includes('garbage') ? { malformed: m.frames } : {};
    assert.deepEqual(m.drops, dropped, `${m.name}: drops`);
  }
});
