/**
 * The measurement behind datapath-alloc.test.ts, run by it in a child process
 * as `node --expose-gc --no-concurrent-recompilation alloc-probe.js`:
 * for each pipeline path, a warm-up, then a million frames while counting
 * garbage collections and the frames that came out. Prints one JSON line per
 * path.
 *
 * Why the flags: the claim is about the hot path as it runs for hours, i.e.
 * optimized. With concurrent recompilation TurboFan compiles on a background
 * thread; on a loaded machine the measured loop could start while the
 * function still runs unoptimized (where reading a 32-bit address above 2^30
 * out of a Uint32Array allocates a heap number per packet), and the count
 * would measure the machine's load, not the data path. Compiling on the main
 * thread makes "after the warm-up" mean "optimized", whatever the load.
 */
import { gcsDuring } from '@dvs/test-support';
import { loadCase, pipelineCases, pipelineRig, type OutCounts } from './pipeline-rig.js';

const ROUNDS = 16_000; // × 64 frames = 1,024,000 frames per path
const WARMUP_ROUNDS = 2000;

declare const gc: () => void;

const rig = pipelineRig();
const n = rig.batch.capacity;
for (const c of pipelineCases(rig)) {
  const reset = loadCase(rig, c);
  for (let r = 0; r < WARMUP_ROUNDS; r++) {
    reset();
    c.run(n);
  }
  const before = { ...rig.out };
  const dropsBefore = { ...rig.pipeline.drops };
  const gcs = await gcsDuring(() => {
    for (let r = 0; r < ROUNDS; r++) {
      reset();
      c.run(n);
    }
  }, gc);
  const out = Object.fromEntries(
    Object.entries(rig.out)
      .map(([k, v]) => [k, v - before[k as keyof OutCounts]])
      .filter(([, v]) => v !== 0),
  );
  const drops = Object.fromEntries(
    Object.entries(rig.pipeline.drops)
      .map(([k, v]) => [k, v - dropsBefore[k as keyof typeof dropsBefore]])
      .filter(([, v]) => v !== 0),
  );
  process.stdout.write(JSON.stringify({ name: c.name, frames: ROUNDS * n, gcs, out, drops }) + '\n');
}
