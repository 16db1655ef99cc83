// The API's trust rules that need no server: token and certificate-role
// files, loopback detection for --insecure-local, Host header parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { AccessPolicy, parseCertRoles, parseTokens, roleIncludes } from '../src/api/trust/access-policy.js';
import { hostOfHeader, isLocalListen, resolveApiTrust } from '../src/api/trust/api-trust.js';
import { ControllerError } from '../src/index.js';

const TOKEN = 'a'.repeat(32);

test('tokens: plain or sha256, compared by digest; bad lines name the file, the line and the fix', () => {
  const digest = createHash('sha256').update('b'.repeat(20)).digest('hex');
  const policy = new AccessPolicy(
    parseTokens(`# comment\nalice operator ${TOKEN}\n\nbot viewer sha256:${digest}  # trailing\n`, 'tokens'),
    new Map(),
  );
  assert.deepEqual(policy.token(TOKEN), { name: 'alice', role: 'operator' });
  assert.deepEqual(policy.token('b'.repeat(20)), { name: 'bot', role: 'viewer' });
  assert.equal(policy.token('a'.repeat(31)), null);
  const bad = (text: string, message: RegExp) =>
    assert.throws(
      () => parseTokens(text, '/etc/dvs/api-tokens'),
      (e: unknown) => e instanceof ControllerError && e.code === 'DVS_CONFIG_INVALID' && message.test(e.message),
    );
  bad(`alice operator`, /api-tokens:1: expected "<name> <role> <token or sha256:hex>"/);
  bad(`alice root ${TOKEN}`, /api-tokens:1: role "root" is not one of viewer, operator, admin/);
  bad(`alice admin short`, /shorter than 16 characters \(make one: openssl rand -hex 32\)/);
  bad(`alice admin sha256:abc`, /64 hex digits/);
  bad(`a admin ${TOKEN}\na viewer ${TOKEN}b`, /api-tokens:2: token name "a" twice/);
});

test('certificate roles: CN first, then subjectAltName entries; unknown certificates get no grant', () => {
  const roles = parseCertRoles('CN=ops-alice operator\nURI:spiffe://x/ns/mon viewer\nIP:192.0.2.5 admin\n', 'roles');
  const policy = new AccessPolicy([], roles);
  const cert = (cn: string, san: string) =>
    ({ subject: { CN: cn }, subjectaltname: san }) as unknown as PeerCertificate;
  assert.deepEqual(policy.certificate(cert('ops-alice', 'DNS:a.example')).grant, {
    name: 'CN=ops-alice',
    role: 'operator',
  });
  assert.deepEqual(policy.certificate(cert('grafana', 'URI:spiffe://x/ns/mon')).grant, {
    name: 'URI:spiffe://x/ns/mon',
    role: 'viewer',
  });
  assert.deepEqual(policy.certificate(cert('box', 'IP Address:192.0.2.5')).grant, {
    name: 'IP:192.0.2.5',
    role: 'admin',
  });
  assert.deepEqual(policy.certificate(cert('nobody', '')), { grant: null, subject: 'CN=nobody' });
  assert.throws(() => parseCertRoles('ops-alice operator', 'roles'), /roles:1: expected "<CN=name/);
  assert.ok(
    roleIncludes('admin', 'operator') && roleIncludes('operator', 'viewer') && !roleIncludes('viewer', 'operator'),
  );
});

test('insecure mode is local only; Host headers are parsed without their port', async () => {
  for (const local of ['127.0.0.1:7400', '127.3.2.1:0', '[::1]:7400', 'localhost:7400', '/run/dvs/controller.sock']) {
    assert.equal(isLocalListen(local), true, local);
  }
  for (const remote of ['0.0.0.0:7400', '[::]:7400', '198.51.100.1:7400', 'ctl.example.net:7400']) {
    assert.equal(isLocalListen(remote), false, remote);
  }
  assert.deepEqual(['ctl.example.net:7400', '[2001:db8::1]:7400', 'LOCALHOST', '', ':80'].map(hostOfHeader), [
    'ctl.example.net',
    '2001:db8::1',
    'localhost',
    null,
    null,
  ]);
  await assert.rejects(resolveApiTrust({ insecureLocal: true }, '0.0.0.0:7400'), /--insecure-local is refused/);
  await assert.rejects(resolveApiTrust({}, '127.0.0.1:7400'), /the API needs TLS/);
  await assert.rejects(resolveApiTrust({ tlsCertFile: 'x' }, '127.0.0.1:7400'), /--tls-cert and --tls-key go together/);
  await assert.rejects(
    resolveApiTrust({ insecureLocal: true, clientCaFile: 'ca.pem' }, '127.0.0.1:0'),
    /--tls-client-ca and --api-cert-roles go together/,
  );
  const open = await resolveApiTrust({ insecureLocal: true }, '127.0.0.1:7400');
  assert.equal(open.anonymousAdmin, true);
  assert.equal(open.allowedHost('127.0.0.1:7400'), true);
  assert.equal(open.allowedHost('localhost:7400'), true);
  assert.equal(open.allowedHost('rebind.attacker.example:7400'), false);
  assert.equal(open.allowedHost(undefined), false);
});
