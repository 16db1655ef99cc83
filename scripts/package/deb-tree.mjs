// The program tree the .deb installs under /usr/lib/dvs: each workspace
// package (package.json, bin/, dist/src without maps and declarations, the
// native addon) and the production dependencies exactly as package-lock.json
// resolved and npm installed them (dev-only entries left out; optional ones
// only when npm installed them here). Copied from the built checkout, so
// nothing is downloaded or rebuilt.
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** Built JS only: no source maps, no .d.ts (nothing at run time reads them). */
const runtimeFile = (path) => !/\.(map|d\.ts)$/.test(path);

function copyWorkspacePackage(repo, dir, lib) {
  const from = join(repo, dir);
  const to = join(lib, dir);
  const dist = join(from, 'dist/src');
  if (!existsSync(dist)) throw new Error(`${dir} is not built (${dist} is missing): run npm run build`);
  cpSync(join(from, 'package.json'), join(to, 'package.json'));
  cpSync(dist, join(to, 'dist/src'), { recursive: true, filter: runtimeFile });
  if (existsSync(join(from, 'bin'))) cpSync(join(from, 'bin'), join(to, 'bin'), { recursive: true });
  const pkg = readJson(join(from, 'package.json'));
  if (pkg.gypfile) {
    const addon = 'build/Release';
    const built = join(from, addon);
    if (!existsSync(built)) throw new Error(`${dir}'s native addon is not built (${built}): run scripts/bootstrap.sh`);
    cpSync(built, join(to, addon), { recursive: true, filter: (p) => p === built || p.endsWith('.node') });
  }
}

/**
 * Copies the workspace packages and their production dependencies from `repo`
 * into `lib`; returns the bundled third-party modules ({ name, version,
 * license }) for the copyright file.
 */
export function packageTree(repo, lib) {
  const lock = readJson(join(repo, 'package-lock.json'));
  const bundled = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev) continue;
    if (!key.includes('node_modules/')) {
      copyWorkspacePackage(repo, key, lib);
      continue;
    }
    const to = join(lib, key);
    if (entry.link) {
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(relative(dirname(to), join(lib, entry.resolved)), to);
      continue;
    }
    const from = join(repo, key);
    if (!existsSync(from)) {
      if (entry.optional) continue;
      throw new Error(`${key} (a production dependency) is not installed: run npm ci`);
    }
    // Nested node_modules are entries of their own (dev-only ones stay out).
    cpSync(from, to, {
      recursive: true,
      filter: (p) => !(basename(p) === 'node_modules' && dirname(p) === from),
    });
    const pkg = readJson(join(from, 'package.json'));
    bundled.push({ name: pkg.name, version: pkg.version, license: pkg.license ?? 'see its package.json' });
  }
  return bundled;
}
