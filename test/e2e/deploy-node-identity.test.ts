// The Kubernetes per-node etcd identity (deploy/kubernetes/provision-node-identity.sh):
// each node gets its own certificate, CN=agent-<node>, in a bundle for
// /etc/dvs/etcd; adding a node keeps the others' certificates; and dvs-agent
// refuses to start with another node's bundle (exit 2, naming it) before it
// opens anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateCommonName } from '@dvs/agent';
import { AGENT_MAIN } from '../support/agent-process.js';

const script = join(process.cwd(), 'deploy/kubernetes/provision-node-identity.sh');
const makeCerts = join(process.cwd(), 'deploy/etcd/make-certs.sh');
let pki = '';

function provision(...nodes: string[]) {
  return spawnSync('bash', [script, pki, ...nodes], { encoding: 'utf8', timeout: 60_000 });
}

before(async () => {
  pki = await mkdtemp(join(tmpdir(), 'dvs-node-pki-'));
  const ca = spawnSync('bash', [makeCerts, pki, '-'], { encoding: 'utf8' });
  assert.equal(ca.status, 0, ca.stderr);
});
after(async () => {
  await rm(pki, { recursive: true, force: true });
});

test('each node gets its own identity; adding a node keeps the others', async () => {
  const r = provision('node-1', 'node-2');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /node-1: identity agent-node-1 in .*nodes\/node-1 \(copy to node-1:\/etc\/dvs\/etcd\//);
  for (const node of ['node-1', 'node-2']) {
    const dir = join(pki, 'nodes', node);
    assert.equal(certificateCommonName(await readFile(join(dir, 'agent.pem'))), `agent-${node}`);
    assert.equal((await stat(join(dir, 'agent-key.pem'))).mode & 0o077, 0, 'key readable by its owner only');
    assert.equal(certificateCommonName(await readFile(join(dir, 'ca.pem'))), 'dvs etcd CA');
  }
  const first = await readFile(join(pki, 'nodes/node-1/agent.pem'), 'utf8');
  assert.equal(provision('node-3').status, 0);
  assert.equal(await readFile(join(pki, 'nodes/node-1/agent.pem'), 'utf8'), first, 'node-1 not re-issued');
});

test("dvs-agent refuses another node's identity before starting anything", async () => {
  const bundle = join(pki, 'nodes', 'node-1');
  const config = join(pki, 'agent.yaml');
  await writeFile(
    config,
    JSON.stringify({
      host: 'node-2',
      vtep: { address: '127.0.0.1' },
      adminSocket: join(pki, 'agent.sock'),
      etcd: {
        endpoints: ['https://127.0.0.1:1'],
        caFile: join(bundle, 'ca.pem'),
        certFile: join(bundle, 'agent.pem'),
        keyFile: join(bundle, 'agent-key.pem'),
      },
    }),
  );
  const r = spawnSync(process.execPath, [AGENT_MAIN, '--config', config], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /etcd\.certFile: .*CN=agent-node-1, another host's etcd identity \(this host is node-2\)/);
  await assert.rejects(stat(join(pki, 'agent.sock')), 'no admin socket: nothing was started');
});
