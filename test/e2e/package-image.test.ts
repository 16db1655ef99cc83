// The OCI image as an operator gets it: scripts/package/build-image.sh builds
// it from Debian packages (mmdebstrap, cached base) and the .deb, with
// buildah and no registry. podman loads the archive into a private vfs store
// and runs it: the programs answer inside, the shipped config passes --check
// with the native addon loading on the image's own Node.js, and the image's
// default command is a running agent that the host's CLI reaches through its
// admin socket. (support/podman.ts: what crun needs on this kind of machine.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient } from '@dvs/admin-client';
import { Podman } from '../support/podman.js';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';

const repo = process.cwd();
const versionOf = (form: string[] = []) =>
  spawnSync(process.execPath, [join(repo, 'scripts/package/version.mjs'), ...form], { encoding: 'utf8' }).stdout.trim();
const version = versionOf();
const tag = versionOf(['--image-tag']);
const debVersion = versionOf(['--deb']);
const image = `localhost/dvs:${tag}`;
const out = mkdtempSync('/var/tmp/dvs-image-test-');
let archive = '';
let podman: Podman | null = null;

before(async () => {
  const deb = await run([process.execPath, 'scripts/package/build-deb.mjs', '--out', out], { timeoutMs: 300_000 });
  const built = await run(
    ['bash', 'scripts/package/build-image.sh', '--deb', join(repo, deb.stdout.trim()), '--out', out],
    {
      timeoutMs: 900_000,
    },
  );
  archive = built.stdout.trim();
  podman = await Podman.create('dvs-podman-');
});

after(async () => {
  await podman?.destroy();
  rmSync(out, { recursive: true, force: true });
});

/** The image's files, read from the archive: index, manifest, config. */
function ociBlob(digest: string): unknown {
  const r = spawnSync('tar', ['-xOf', archive, `blobs/sha256/${digest.replace('sha256:', '')}`], {
    maxBuffer: 1 << 20,
    encoding: 'utf8',
  });
  return JSON.parse(r.stdout);
}

test('the archive holds one image, named localhost/dvs:<version>, labelled with the version', () => {
  assert.equal(archive, join(out, `dvs-image_${tag}.oci.tar`));
  const index = JSON.parse(spawnSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' }).stdout) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], image);
  const manifest = ociBlob(index.manifests[0].digest) as { config: { digest: string }; layers: unknown[] };
  assert.equal(manifest.layers.length, 1);
  const config = ociBlob(manifest.config.digest) as { config: { Cmd: string[]; Labels: Record<string, string> } };
  assert.equal(config.config.Labels['org.opencontainers.image.version'], version);
  assert.deepEqual(config.config.Cmd, ['dvs-agent', '--config', '/etc/dvs/agent.yaml']);
});

test('in a container: the programs and the package agree on the version, the shipped config passes --check', async () => {
  const p = podman!;
  const loaded = await p.podman(['load', '--quiet', '--input', archive]);
  assert.match(loaded.stdout, new RegExp(`Loaded image: ${image.replace(/\./g, '\\.')}`));
  // One container for all of it: with vfs storage every container starts from a full copy of the image.
  const script = [
    'dvs-agent --version',
    'dvs --version',
    "dpkg-query -W -f='${Version}\\n' dvs",
    'getent passwd dvs',
    'dvs-agent --config /etc/dvs/agent.yaml --check',
  ].join(' && ');
  const r = await p.podman(['run', '--rm', ...Podman.runOptions(), image, 'sh', '-c', script]);
  const [agentVersion, cliVersion, packageVersion, user, ...check] = r.stdout.split('\n');
  assert.equal(agentVersion, `dvs-agent ${version}`);
  assert.equal(cliVersion, version);
  assert.equal(packageVersion, debVersion);
  assert.match(user, /^dvs:x:\d+:\d+:.*:\/nonexistent:\/usr\/sbin\/nologin$/);
  assert.match(check[0], /^configuration valid: host host-a/);
  assert.ok(check.includes('native addon: loads'), check.join('\n'));
});

test("the image's default command is a running agent; the host's CLI reaches it through the admin socket", async () => {
  const p = podman!;
  const config = join(p.dir, 'etc');
  const sockets = join(p.dir, 'sockets');
  mkdirSync(config);
  mkdirSync(sockets);
  writeFileSync(join(config, 'agent.yaml'), 'host: c1\nvtep: { address: 127.0.0.1 }\nnetworks: [{ vni: 100 }]\n');
  const name = `dvs-image-test-${process.pid}`;
  await p.podman([
    'run',
    '--detach',
    '--name',
    name,
    ...Podman.runOptions(),
    '--volume',
    `${config}:/etc/dvs:ro`,
    '--volume',
    `${sockets}:/run/dvs`,
    image,
  ]);
  try {
    const socket = join(sockets, 'agent.sock');
    await waitFor('the agent in the container to open its admin socket', () => existsSync(socket), 60_000, 200);
    const admin = new AdminClient(socket);
    try {
      const answer = await waitFor('an answer to version', async () => (await admin.call('version')).data, 30_000, 200);
      const { version: agentVersion, host, node } = answer as { version: string; host: string; node: string };
      assert.deepEqual([agentVersion, host], [version, 'c1']);
      assert.match(node, /^v(2\d|[3-9]\d)\./, 'the image runs Node.js 20 or later');
    } finally {
      admin.close();
    }
    const ports = spawnSync(
      process.execPath,
      [join(repo, 'packages/cli/bin/dvs.js'), 'agent', 'ports', '--socket', socket],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(ports.status, 0, ports.stderr);
    assert.equal(ports.stdout, 'no ports\n');
  } finally {
    await p.podman(['stop', '--time', '5', name], { allowFailure: true });
    const logs = await p.podman(['logs', name], { allowFailure: true });
    await p.podman(['rm', '--force', name], { allowFailure: true });
    assert.match(logs.stdout + logs.stderr, /"msg":"agent started","host":"c1"/);
  }
});
