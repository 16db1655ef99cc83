// deploy/ artefacts exercised for real: the QEMU/libvirt hook scripts
// (dvs-ifup / dvs-ifdown) plug a persistent TAP into a running agent through
// its admin socket and release it again, and the systemd units parse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Lab, devicePrefix } from '@dvs/lab';

const qemuDir = join(process.cwd(), 'deploy/qemu');
let lab: Lab | null = null;
let tap = '';

before(async () => {
  lab = await Lab.up({
    spec: { hosts: 1, vmsPerHost: 0, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }], controlPlane: false },
  });
  // What `-netdev tap,ifname=…` or libvirt leaves: an existing TAP nobody holds.
  tap = `${devicePrefix(lab.id)}q0`;
  const r = spawnSync('ip', ['-n', lab.host('h1').netns, 'tuntap', 'add', 'mode', 'tap', 'name', tap], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});

after(async () => {
  if (lab) assert.deepEqual(await lab.down(), []);
});

function hook(script: string, env: Record<string, string>) {
  return spawnSync('ip', ['netns', 'exec', lab!.host('h1').netns, join(qemuDir, script), tap], {
    encoding: 'utf8',
    env: { ...process.env, DVS_AGENT_SOCKET: lab!.host('h1').adminSocket!, ...env },
    timeout: 20_000,
  });
}

async function ports(): Promise<string[]> {
  const { data } = await lab!.admin('h1').call('ports/show');
  return (data as Array<{ name: string }>).map((p) => p.name);
}

test('dvs-ifup without a VNI says how to give one and changes nothing', async () => {
  const r = hook('dvs-ifup', {});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no VNI for .*DVS_VNI/);
  assert.ok(!(await ports()).includes(tap));
});

test('dvs-ifup adopts the TAP into VNI 100; dvs-ifdown releases it and leaves the TAP', async () => {
  const up = hook('dvs-ifup', { DVS_VNI: '100' });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /added port/);
  assert.ok((await ports()).includes(tap));

  const down = hook('dvs-ifdown', {});
  assert.equal(down.status, 0, down.stderr);
  assert.ok(!(await ports()).includes(tap));
  const link = spawnSync('ip', ['-n', lab!.host('h1').netns, 'link', 'show', tap], { encoding: 'utf8' });
  assert.equal(link.status, 0, 'an adopted TAP must stay in place');

  // Releasing a port the agent does not know is not an error (QEMU may call it twice).
  assert.equal(hook('dvs-ifdown', {}).status, 0);
});

test('the systemd units parse (systemd-analyze verify)', () => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
  assert.equal(
    which.status,
    0,
    'systemd-analyze is missing: scripts/bootstrap.sh installs it (Debian package systemd)',
  );
  for (const unit of ['dvs-agent.service', 'dvs-controller.service']) {
    const r = spawnSync('systemd-analyze', ['verify', join(process.cwd(), 'deploy/systemd', unit)], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
  }
});
