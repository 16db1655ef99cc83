// One version, from lerna.json: every package and @dvs/* dependency carries
// it, `npx dvs --version` from the repository root (npm linked the committed
// bin entry points at install time) and the daemons print it, and the
// Kubernetes manifests name the image tag the build produces from it. The
// .deb and the image are checked against it in package-deb / package-image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = process.cwd();
const lernaVersion = (JSON.parse(readFileSync(join(repo, 'lerna.json'), 'utf8')) as { version: string }).version;
const versionScript = join(repo, 'scripts/package/version.mjs');

test('scripts/package/version.mjs answers lerna.json version, which every package carries', () => {
  const r = spawnSync(process.execPath, [versionScript], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${lernaVersion}\n`);
  const packages = readdirSync(join(repo, 'packages'));
  assert.ok(packages.length >= 6, packages.join());
  for (const pkg of packages) {
    const json = JSON.parse(readFileSync(join(repo, 'packages', pkg, 'package.json'), 'utf8')) as {
      version: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    assert.equal(json.version, lernaVersion, `packages/${pkg}`);
    for (const [dep, range] of Object.entries({ ...json.dependencies, ...json.devDependencies })) {
      if (dep.startsWith('@dvs/')) assert.equal(range, lernaVersion, `packages/${pkg} → ${dep}`);
    }
  }
});

test('npx dvs, dvs-agent and dvs-controller from the repository root print that version', () => {
  // `npx dvs` as the README says; the other two through the same links npx resolves (npx costs seconds).
  const npx = execFileSync('npx', ['--no', '--', 'dvs', '--version'], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  assert.equal(npx, `${lernaVersion}\n`);
  const bin = (name: string) =>
    execFileSync(join(repo, 'node_modules/.bin', name), ['--version'], { encoding: 'utf8' });
  assert.equal(bin('dvs-agent'), `dvs-agent ${lernaVersion}\n`);
  assert.equal(bin('dvs-controller'), `dvs-controller ${lernaVersion}\n`);
  // npm links the committed entry points, which exist before anything is built.
  const tracked = execFileSync('git', ['ls-files', 'packages/*/bin/*.js'], { cwd: repo, encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const [bin, target] of [
    ['dvs', 'packages/cli/bin/dvs.js'],
    ['dvs-agent', 'packages/agent/bin/dvs-agent.js'],
    ['dvs-controller', 'packages/controller/bin/dvs-controller.js'],
  ]) {
    assert.equal(realpathSync(join(repo, 'node_modules/.bin', bin)), realpathSync(join(repo, target)));
    assert.ok(tracked.includes(target), `${target} is committed`);
  }
});

test('a tree whose packages disagree with lerna.json is refused by the packaging, naming what disagrees', async () => {
  const { releaseVersion, versionMismatches } = (await import(versionScript)) as {
    releaseVersion: (root: string) => string;
    versionMismatches: (root: string) => string[];
  };
  assert.deepEqual(versionMismatches(repo), []);
  const copy = mkdtempSync(join(tmpdir(), 'dvs-version-'));
  try {
    cpSync(join(repo, 'lerna.json'), join(copy, 'lerna.json'));
    cpSync(join(repo, 'packages'), join(copy, 'packages'), {
      recursive: true,
      filter: (p) => !/\/(dist|build|node_modules)$/.test(p),
    });
    const agentJson = join(copy, 'packages/agent/package.json');
    const agent = JSON.parse(readFileSync(agentJson, 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
    };
    agent.version = '9.9.9';
    agent.dependencies['@dvs/wire'] = '9.9.9';
    writeFileSync(agentJson, JSON.stringify(agent));
    assert.deepEqual(versionMismatches(copy), [
      'packages/agent/package.json: version 9.9.9',
      'packages/agent/package.json: dependency @dvs/wire 9.9.9',
    ]);
    assert.throws(() => releaseVersion(copy), /disagree with lerna\.json's version/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('the Kubernetes manifests name the image the build produces: localhost/dvs:<version>', () => {
  const tag = spawnSync(process.execPath, [versionScript, '--image-tag'], { encoding: 'utf8' }).stdout.trim();
  for (const file of ['agent-daemonset.yaml', 'controller-deployment.yaml']) {
    const text = readFileSync(join(repo, 'deploy/kubernetes', file), 'utf8');
    assert.deepEqual(
      [...text.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]),
      [`localhost/dvs:${tag}`],
      file,
    );
  }
});
