// The agent refuses another host's etcd identity before it starts anything:
// under dvs's RBAC host <h> is agent-<h>, by username or certificate CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEtcdIdentity, ConfigError, validateConfig } from '../src/index.js';

let dir = '';
const cert = (cn: string): string => {
  const file = join(dir, `${cn}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, `${cn}-key.pem`),
      '-out',
      file,
      '-subj',
      `/CN=${cn}`,
    ],
    { stdio: 'ignore' },
  );
  return file;
};
const config = (etcd: Record<string, unknown>) =>
  validateConfig({
    host: 'h1',
    vtep: { address: '198.51.100.1' },
    etcd: { endpoints: ['https://127.0.0.1:2379'], ...etcd },
  });

async function refusal(etcd: Record<string, unknown>): Promise<ConfigError> {
  try {
    await checkEtcdIdentity(config(etcd));
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('identity accepted');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dvs-identity-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the host's own identity, or a name outside the agent-<host> scheme, is accepted", async () => {
  await checkEtcdIdentity(
    config({ caFile: cert('ca'), certFile: cert('agent-h1'), keyFile: join(dir, 'agent-h1-key.pem') }),
  );
  await checkEtcdIdentity(config({ username: 'agent-h1', password: 'x' }));
  await checkEtcdIdentity(config({ caFile: join(dir, 'ca.pem'), certFile: cert('h1.example.net'), keyFile: 'k' }));
  await checkEtcdIdentity(validateConfig({ host: 'h1', vtep: { address: '198.51.100.1' } }));
});

test("another host's certificate or username is refused, naming the field and the fix", async () => {
  const byCert = await refusal({ caFile: join(dir, 'ca.pem'), certFile: cert('agent-h2'), keyFile: 'k' });
  assert.equal(byCert.field, 'etcd.certFile');
  assert.match(byCert.message, /CN=agent-h2, another host's etcd identity \(this host is h1\)/);
  assert.match(byCert.fix, /CN=agent-h1/);
  const byUser = await refusal({ username: 'agent-h10', password: 'x' });
  assert.equal(byUser.field, 'etcd.username');
  assert.match(byUser.fix, /agent-h1 /);
  await writeFile(join(dir, 'garbage.pem'), 'not a certificate');
  const garbage = await refusal({ caFile: 'ca', certFile: join(dir, 'garbage.pem'), keyFile: 'k' });
  assert.match(garbage.message, /garbage\.pem is not a PEM certificate/);
  // Not there yet: for the etcd connection to report when it opens it (`--check` of a config written first).
  await checkEtcdIdentity(config({ caFile: 'ca', certFile: join(dir, 'nowhere.pem'), keyFile: 'k' }));
});
