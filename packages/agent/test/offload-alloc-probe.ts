/**
 * The measurement behind the super-frame half of datapath-alloc.test.ts, run
 * by it in a child process as `node --expose-gc --no-concurrent-recompilation
 * offload-alloc-probe.js` (alloc-probe.ts says why the flags): for each
 * encap of the offload rig (offload-rig.ts), a warm-up, then a million
 * segments from A's TAP to B's TAP while counting garbage collections and
 * what came out. Prints one JSON line per path.
 */
import { gcsDuring } from '@dvs/test-support';
import { offloadRig } from './offload-rig.js';

const FRAMES = 1_000_000;
const WARMUP_SUPER_FRAMES = 2000;

declare const gc: () => void;

const rig = offloadRig();
try {
  for (const c of rig.cases) {
    const rounds = Math.ceil(FRAMES / c.segments);
    let lost = 0;
    for (let r = 0; r < WARMUP_SUPER_FRAMES; r++) if (!c.run()) lost++;
    const out = { ...c.out };
    const gsoBefore = c.sender.stats.sendGsoMessages ?? 0;
    const groBefore = c.receiver.stats.recvGroMessages ?? 0;
    const gcs = await gcsDuring(() => {
      for (let r = 0; r < rounds; r++) if (!c.run()) lost++;
    }, gc);
    process.stdout.write(
      JSON.stringify({
        name: c.name,
        superFrames: rounds,
        segmentsIn: rounds * c.segments,
        payloadIn: rounds * c.payloadBytes,
        lost,
        gcs,
        superFramesOut: c.out.superFrames - out.superFrames,
        framesOut: c.out.frames - out.frames,
        segmentsOut: c.out.segments - out.segments,
        payloadOut: c.out.payloadBytes - out.payloadBytes,
        gsoMessages: (c.sender.stats.sendGsoMessages ?? 0) - gsoBefore,
        groMessages: (c.receiver.stats.recvGroMessages ?? 0) - groBefore,
      }) + '\n',
    );
  }
} finally {
  rig.close();
}
