/**
 * "No allocation per frame on the hot path", measured: after a warm-up, a
 * million frames through each pipeline path — VXLAN and GRE-in-UDP, encap,
 * local delivery, flood, decap from IPv4 and IPv6 peers, garbage — must not
 * trigger a single garbage collection (one 16-byte allocation per frame would
 * fill the young generation several times over), and every frame must come
 * out where it should (the devices and sockets count what they take), so the
 * path measured is the path that switched.
 *
 * The super-frame path runs the same way through the whole offload chain of
 * two data paths joined by real sockets over loopback (offload-rig.ts): a
 * TAP's TSO super-frame, the real segmentation, UDP GSO, UDP GRO, the
 * super-datagram views, the real coalescing, a super-frame to the far TAP.
 *
 * The measuring runs in a child process with the JIT compiling on the main
 * thread (alloc-probe.ts says why).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipelineCases, pipelineRig } from './pipeline-rig.js';

/** Runs a probe next to this file in a child process with --expose-gc; its stdout is one JSON result per line. */
function runProbe<T>(file: string): T[] {
  const probe = fileURLToPath(new URL(file, import.meta.url));
  const child = spawnSync(process.execPath, ['--expose-gc', '--no-concurrent-recompilation', probe], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

interface Measured {
  name: string;
  frames: number;
  gcs: number;
  out: Record<string, number>;
  drops: Record<string, number>;
}

test('no garbage collection while switching a million frames on each path, and every frame comes out', () => {
  const measured = runProbe<Measured>('./alloc-probe.js');
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

interface MeasuredOffload {
  name: string;
  superFrames: number;
  segmentsIn: number;
  payloadIn: number;
  lost: number;
  gcs: number;
  superFramesOut: number;
  framesOut: number;
  segmentsOut: number;
  payloadOut: number;
  gsoMessages: number;
  groMessages: number;
}

test('no garbage collection while a million segments go TAP super-frame → segmentation → UDP GSO → UDP GRO → coalescing → TAP, VXLAN over IPv4 and GRE-in-UDP over IPv6, and every segment and byte comes out', () => {
  const measured = runProbe<MeasuredOffload>('./offload-alloc-probe.js');
  assert.deepEqual(
    measured.map((m) => m.name.split(':')[0]),
    ['vxlan over IPv4', 'gre-udp over IPv6'],
    'both encaps measured',
  );
  for (const m of measured) {
    assert.ok(m.segmentsIn >= 1_000_000, `${m.name}: ${m.segmentsIn} segments`);
    assert.equal(m.gcs, 0, `${m.name}: ${m.gcs} garbage collections`);
    assert.equal(m.lost, 0, `${m.name}: super-frames the far socket never got`);
    assert.equal(m.segmentsOut, m.segmentsIn, `${m.name}: segments out`);
    assert.equal(m.payloadOut, m.payloadIn, `${m.name}: TCP payload bytes out`);
    // One UDP GSO message per super-frame, one GRO super-datagram per message, one coalesced super-frame per TAP write.
    assert.equal(m.gsoMessages, m.superFrames, `${m.name}: UDP GSO messages`);
    assert.equal(m.groMessages, m.superFrames, `${m.name}: super-datagrams received`);
    assert.equal(m.superFramesOut, m.superFrames, `${m.name}: coalesced super-frames written`);
    assert.equal(m.framesOut, m.superFrames, `${m.name}: nothing written but the super-frames`);
  }
});
