// etcd over TLS with client certificates (deploy/etcd/make-certs.sh issues
// them): the agent's EtcdSync and the controller connect with CA, cert and
// key; without a client certificate the agent cannot register and says so once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller } from '@dvs/controller';
import { EtcdServer } from '@dvs/etcd/testing';
import { KeyLayout } from '@dvs/wire';
import { Etcd3 } from 'etcd3';
import { EtcdSync } from '../src/etcd-sync/index.js';
import { CapturingLogger, FakeSurface } from './etcd-sync-fakes.js';
import { waitFor } from '@dvs/test-support';

const MAKE_CERTS = fileURLToPath(new URL('../../../../deploy/etcd/make-certs.sh', import.meta.url));
const pki = mkdtempSync(join(tmpdir(), 'dvs-tls-'));
const file = (name: string): string => join(pki, name);
let etcd: EtcdServer;

before(async () => {
  execFileSync('bash', [MAKE_CERTS, pki, 'etcd-1=127.0.0.1', 'tls-host'], { stdio: 'ignore' });
  etcd = await EtcdServer.start({
    tls: {
      certFile: file('etcd-1.pem'),
      keyFile: file('etcd-1-key.pem'),
      trustedCaFile: file('ca.pem'),
      clientCertFile: file('controller.pem'),
      clientKeyFile: file('controller-key.pem'),
    },
  });
});

after(async () => {
  await etcd?.stop();
  rmSync(pki, { recursive: true, force: true });
});

test('agent and controller talk to etcd over TLS with client certificates', async () => {
  assert.match(etcd.endpoint, /^https:/);
  const controller = await Controller.start({
    id: 'ctl-tls',
    etcd: {
      endpoints: [etcd.endpoint],
      caFile: file('ca.pem'),
      certFile: file('controller.pem'),
      keyFile: file('controller-key.pem'),
    },
    listen: '127.0.0.1:0',
    api: { insecureLocal: true },
    electionTtlSeconds: 2,
  });
  const surface = new FakeSurface();
  const sync = new EtcdSync({
    host: 'tls-host',
    vtep: { address: '192.0.2.77', port: 4789 },
    encaps: ['vxlan'],
    agentVersion: 'test',
    etcd: {
      endpoints: [etcd.endpoint],
      caFile: file('ca.pem'),
      certFile: file('agent-tls-host.pem'),
      keyFile: file('agent-tls-host-key.pem'),
    },
    surface,
  });
  const reader = new Etcd3({
    hosts: etcd.endpoint,
    credentials: {
      rootCertificate: readFileSync(file('ca.pem')),
      certChain: readFileSync(file('controller.pem')),
      privateKey: readFileSync(file('controller-key.pem')),
    },
  });
  try {
    await waitFor('leader over TLS', () => (controller.isLeader ? true : undefined));
    const res = await fetch(`${controller.address}/v1/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vni: 100, name: 'tls' }),
    });
    assert.equal(res.status, 201);
    sync.start();
    await sync.ready();
    await sync.published();
    assert.notEqual(await reader.get(new KeyLayout().host('tls-host')).buffer(), null);
    await waitFor('network reached the agent over TLS', () => (surface.networks.has(100) ? true : undefined));
  } finally {
    reader.close();
    await sync.stop();
    await controller.stop();
  }
});

test('without a client certificate the agent cannot connect, and logs it once', async () => {
  const log = new CapturingLogger();
  const sync = new EtcdSync({
    host: 'no-cert',
    vtep: { address: '192.0.2.78', port: 4789 },
    encaps: ['vxlan'],
    agentVersion: 'test',
    etcd: { endpoints: [etcd.endpoint], caFile: file('ca.pem'), callTimeoutMs: 500 },
    surface: new FakeSurface(),
    log,
  });
  try {
    sync.start();
    await waitFor('outage logged', () => (log.count('warn', /etcd unreachable/) > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2000)); // several retries
    assert.equal(log.count('warn', /etcd unreachable/), 1);
    assert.equal(sync.tables.loaded, false);
  } finally {
    await sync.stop();
  }
});
