// `dvs-agent --check` through the committed bin entry point: a valid config
// is described and nothing starts; an invalid one exits 2 naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/dvs-agent.js', import.meta.url));
const example = fileURLToPath(new URL('../../../../deploy/examples/agent.yaml', import.meta.url));

function agent(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('--check on deploy/examples/agent.yaml: valid, described, exit 0', () => {
  const r = agent('--config', example, '--check');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^configuration valid: host host-a, VTEP 198\.51\.100\.1$/m);
  assert.match(r.stdout, /^networks: 100 \(vxlan, mtu 1450\), 200 \(gre-udp, mtu 1450\)$/m);
  assert.match(
    r.stdout,
    /^ports: tap-web1 \(create\), tap-router \(adopt\), vnet3 \(attach\), tap-db1 \(create, persistent\)$/m,
  );
  assert.match(r.stdout, /^state file: \/var\/lib\/dvs\/agent-state\.json$/m);
  assert.match(r.stdout, /^native addon: loads$/m);
});

test('--check starts nothing: no admin socket, even with a valid config', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-check-'));
  try {
    const socket = join(dir, 'agent.sock');
    const r = agent('--host', 'h1', '--vtep-address', '127.0.0.1', '--admin-socket', socket, '--check');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^admin socket: ${socket}$`, 'm'));
    assert.equal(existsSync(socket), false, 'the admin socket must not be created by --check');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--check on an invalid config: exit 2, one line naming the field and the fix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-check-'));
  try {
    const file = join(dir, 'agent.yaml');
    await writeFile(file, 'host: h1\nvtep: { address: 198.51.100.1 }\nnetworks: [{ vni: 100, mtu: 20000 }]\n');
    const r = agent('--config', file, '--check');
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /DVS_CONFIG_INVALID/);
    assert.match(r.stderr, /networks\[0\]\.mtu/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
