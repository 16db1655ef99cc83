/**
 * `node packages/lab/dist/src/qemu/build-guest.js [--force] [--dir <dir>]`:
 * builds (or confirms) the cached guest image and prints its paths as JSON on
 * stdout; progress lines go to stderr. Tests and the demo call
 * ensureGuestImage() themselves; this is for a first run by hand and for CI
 * warm-up.
 */
import { ensureGuestImage } from './guest-image.js';

const args = process.argv.slice(2);
const dirAt = args.indexOf('--dir');
try {
  const image = await ensureGuestImage({
    force: args.includes('--force'),
    dir: dirAt >= 0 ? args[dirAt + 1] : undefined,
  });
  process.stdout.write(JSON.stringify(image, null, 2) + '\n');
} catch (err) {
  const e = err as Error & { code?: string };
  process.stderr.write(`build-guest: ${e.message}${e.code ? ` (${e.code})` : ''}\n`);
  process.exitCode = 1;
}
