#!/usr/bin/env node
// The release version, from its one place: lerna.json ("fixed" mode: `npx lerna
// version X --no-git-tag-version --no-push` writes it into every
// packages/*/package.json and their @dvs/* dependencies). The .deb, the image
// tag and `dvs --version` all come from it; this refuses to answer while any
// package disagrees, so a half-bumped tree cannot be packaged.
//   node scripts/package/version.mjs [--deb | --image-tag]
//     prints the version (or its Debian form, or its image-tag form)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** Every way the tree disagrees with lerna.json's version (empty when it agrees). */
export function versionMismatches(root = REPO_ROOT) {
  const version = readJson(join(root, 'lerna.json')).version;
  const problems = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pkg = readJson(join(root, 'packages', dir, 'package.json'));
    if (pkg.version !== version) problems.push(`packages/${dir}/package.json: version ${pkg.version}`);
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (name.startsWith('@dvs/') && range !== version) {
        problems.push(`packages/${dir}/package.json: dependency ${name} ${range}`);
      }
    }
  }
  return problems;
}

/** lerna.json's version, after checking that every package agrees; throws naming what does not. */
export function releaseVersion(root = REPO_ROOT) {
  const version = readJson(join(root, 'lerna.json')).version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+([~+.-][0-9A-Za-z.~+-]*)?$/.test(version)) {
    throw new Error(`lerna.json: version ${JSON.stringify(version)} is not a release version like 1.2.3`);
  }
  const problems = versionMismatches(root);
  if (problems.length > 0) {
    throw new Error(
      `these disagree with lerna.json's version ${version}:\n  ${problems.join('\n  ')}\n` +
        `fix: npx lerna version ${version} --no-git-tag-version --no-push --force-publish --yes`,
    );
  }
  return version;
}

/** The Debian form of a version: a pre-release "-rc.1" sorts before the release as "~rc.1". */
export function debVersion(version) {
  return version.replace('-', '~');
}

/** The image tag form: OCI tags allow [A-Za-z0-9_.-], so build metadata "+x" becomes "_x". */
export function imageTag(version) {
  return version.replace('+', '_');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const forms = { undefined: (v) => v, '--deb': debVersion, '--image-tag': imageTag };
  const form = forms[process.argv[2]];
  if (form === undefined || process.argv.length > 3) {
    console.error('usage: node scripts/package/version.mjs [--deb | --image-tag]');
    process.exit(2);
  }
  try {
    console.log(form(releaseVersion()));
  } catch (error) {
    console.error(`version: ${error.message}`);
    process.exit(1);
  }
}
