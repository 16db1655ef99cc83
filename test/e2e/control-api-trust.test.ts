/**
 * The controller API's trust rules against the real dvs-controller binary
 * over a real etcd (loopback, no namespaces): HTTPS with a CA made by
 * deploy/api/make-api-certs.sh, bearer tokens and client certificates mapped
 * to viewer/operator/admin. Refused writes (401, 403, 415, 421) leave every
 * table key in etcd byte for byte as it was (only the audit history under
 * audit/ grows: it records them); `dvs audit-log` shows allowed and refused
 * writes; a CLI context file carries URL and credentials; insecure mode is
 * refused off loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { EtcdServer } from '@dvs/etcd/testing';
import { ControllerClient } from '@dvs/cli';
import { waitFor } from '@dvs/test-support';
import { run, type RunResult } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import {
  CONTROLLER_MAIN as CONTROLLER,
  startController,
  type ControllerProcess,
} from '../support/controller-process.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAKE_API_CERTS = join(REPO, 'deploy/api/make-api-certs.sh');
const PREFIX = `/dvs-trust-${process.pid}/`;

let etcd: EtcdServer;
let kv: Etcd3;
let dir: string;
let pki: string;
let controller: ControllerProcess | undefined;
let url = '';
const token = {
  admin: randomBytes(24).toString('hex'),
  ops: randomBytes(24).toString('hex'),
  view: randomBytes(24).toString('hex'),
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** A raw HTTPS request, every header under the test's control. */
async function raw(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; cert?: string; ca?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  const ca = await readFile(options.ca ?? join(pki, 'api-ca.pem'));
  const client = options.cert
    ? { cert: await readFile(`${options.cert}.pem`), key: await readFile(`${options.cert}-key.pem`) }
    : {};
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        method,
        path,
        ca,
        ...client,
        servername: 'localhost',
        headers: options.headers ?? {},
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...extra });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Every table key under the prefix with its value bytes; the audit history is left out (it records refusals). */
async function tables(): Promise<Map<string, string>> {
  const all = await kv.getAll().prefix(PREFIX).buffers();
  return new Map(
    Object.entries(all)
      .filter(([k]) => !k.startsWith(`${PREFIX}audit/`))
      .map(([k, v]) => [k, v.toString('base64')]),
  );
}

async function auditCount(): Promise<number> {
  return kv.getAll().prefix(`${PREFIX}audit/`).count();
}

function dvs(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runDvs(args, { HOME: dir, DVS_CONFIG: join(dir, 'none.yaml'), ...env });
}

before(async () => {
  etcd = await EtcdServer.start();
  kv = new Etcd3({ hosts: etcd.endpoint });
  dir = await mkdtemp(join(tmpdir(), 'dvs-trust-'));
  pki = join(dir, 'pki');
  await run(['bash', MAKE_API_CERTS, pki, '127.0.0.1,ctl.test', 'ops-cert', 'viewer-cert', 'stranger']);
  // A second CA whose certificates the controller must not accept.
  await run(['bash', MAKE_API_CERTS, join(dir, 'rogue'), 'rogue.test', 'ops-cert']);
  const opsDigest = createHash('sha256').update(token.ops).digest('hex');
  await writeFile(
    join(dir, 'tokens'),
    `# name role secret\nroot admin ${token.admin}\nops operator sha256:${opsDigest}\nview viewer ${token.view}\n`,
    { mode: 0o600 },
  );
  await writeFile(join(dir, 'cert-roles'), 'CN=ops-cert operator\nCN=viewer-cert viewer\n');
  await writeFile(join(dir, 'admin.token'), `${token.admin}\n`, { mode: 0o600 });
  // Listening on 127.0.0.1 but without --insecure-local: TLS and authentication are required.
  controller = await startController([
    ...['--etcd', etcd.endpoint, '--prefix', PREFIX, '--listen', '127.0.0.1:0', '--id', 'ctl-trust'],
    ...['--tls-cert', join(pki, 'controller-api.pem'), '--tls-key', join(pki, 'controller-api-key.pem')],
    ...['--tls-client-ca', join(pki, 'api-ca.pem'), '--api-cert-roles', join(dir, 'cert-roles')],
    ...['--api-tokens', join(dir, 'tokens')],
  ]);
  url = controller.url;
  assert.match(url, /^https:\/\//, 'a TLS API');
  const admin = new ControllerClient(url, { ca: await readFile(join(pki, 'api-ca.pem')), token: token.admin });
  await waitFor('the controller to be healthy', async () => (await admin.health(1000)).status === 'ok');
  await admin.createNetwork({ vni: 100, name: 'blue' });
  // The controller writes the network's flood list after answering; the
  // byte-for-byte comparisons below start once it has.
  await waitFor('the controller to write flood/100', async () => (await kv.get(`${PREFIX}flood/100`)) !== null);
});

after(async () => {
  await controller?.stop();
  kv?.close();
  await etcd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('refused writes: 401 without credentials, 403 for a viewer, 415 for text/plain, 421 for a foreign Host; etcd tables unchanged byte for byte', async () => {
  const create = JSON.stringify({ vni: 300, name: 'red' });
  const cases: [string, () => Promise<Answer>, number, string][] = [
    [
      'no credentials',
      () => raw('POST', '/v1/networks', { headers: json(), body: create }),
      401,
      'DVS_UNAUTHENTICATED',
    ],
    [
      'an unknown token',
      () => raw('POST', '/v1/networks', { headers: json(bearer('x'.repeat(40))), body: create }),
      401,
      'DVS_UNAUTHENTICATED',
    ],
    [
      'a viewer token',
      () => raw('POST', '/v1/networks', { headers: json(bearer(token.view)), body: create }),
      403,
      'DVS_FORBIDDEN',
    ],
    [
      'a viewer certificate',
      () => raw('POST', '/v1/networks', { headers: json(), body: create, cert: join(pki, 'viewer-cert') }),
      403,
      'DVS_FORBIDDEN',
    ],
    [
      'a certificate with no role',
      () => raw('DELETE', '/v1/networks/100', { headers: json(), cert: join(pki, 'stranger') }),
      403,
      'DVS_FORBIDDEN',
    ],
    [
      'a certificate of another CA',
      () => raw('DELETE', '/v1/networks/100', { headers: json(), cert: join(dir, 'rogue', 'ops-cert') }),
      401,
      'DVS_UNAUTHENTICATED',
    ],
    [
      'a text/plain body',
      () =>
        raw('POST', '/v1/networks', { headers: { 'content-type': 'text/plain', ...bearer(token.ops) }, body: create }),
      415,
      'DVS_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a DELETE without a content type',
      () => raw('DELETE', '/v1/networks/100', { headers: bearer(token.ops) }),
      415,
      'DVS_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a foreign Host (DNS rebinding)',
      () =>
        raw('POST', '/v1/networks', {
          headers: json({ ...bearer(token.ops), host: 'attacker.example:7400' }),
          body: create,
        }),
      421,
      'DVS_MISDIRECTED',
    ],
  ];
  for (const [what, send, status, code] of cases) {
    const before = await tables();
    const audited = await auditCount();
    const answer = await send();
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error?.code, code, what);
    if (status === 401) assert.equal(answer.headers['www-authenticate'], 'Bearer', what);
    assert.deepEqual(await tables(), before, `${what}: etcd tables changed`);
    assert.equal(await auditCount(), audited + 1, `${what}: one audit record`);
  }
  assert.equal((await tables()).has(`${PREFIX}networks/300`), false);
});

test('reads need a viewer; /healthz needs nothing; a GET with a foreign Host is 421 too', async () => {
  assert.equal((await raw('GET', '/v1/networks')).status, 401);
  assert.equal((await raw('GET', '/healthz')).status, 200);
  const viewer = await raw('GET', '/v1/networks', { headers: bearer(token.view) });
  assert.equal(viewer.status, 200);
  assert.deepEqual(
    (viewer.body.networks as { vni: number }[]).map((n) => n.vni),
    [100],
  );
  assert.equal((await raw('GET', '/v1/networks', { cert: join(pki, 'viewer-cert') })).status, 200);
  assert.equal(
    (await raw('GET', '/v1/status', { headers: { ...bearer(token.view), host: 'rebind.example' } })).status,
    421,
  );
  // A DNS name in the server certificate is a name the API answers to.
  assert.equal(
    (await raw('GET', '/v1/status', { headers: { ...bearer(token.view), host: 'ctl.test:7400' } })).status,
    200,
  );
  // The audit log is for admins.
  assert.equal((await raw('GET', '/v1/audit', { headers: bearer(token.ops) })).status, 403);
});

test('allowed writes by token and certificate; dvs audit-log shows them and the refused ones with who, before and after', async () => {
  const ca = join(pki, 'api-ca.pem');
  const created = await dvs([
    'networks',
    'create',
    '--vni',
    '200',
    '--name',
    'green',
    '--controller',
    url,
    '--cacert',
    ca,
    '--token',
    token.ops,
  ]);
  assert.equal(created.code, 0, created.stderr);
  const patched = await dvs([
    ...['networks', 'update', '200', '--mtu', '1400', '--controller', url, '--cacert', ca],
    ...['--cert', join(pki, 'ops-cert.pem'), '--key', join(pki, 'ops-cert-key.pem')],
  ]);
  assert.equal(patched.code, 0, patched.stderr);
  const refused = await dvs(['networks', 'delete', '200', '--controller', url, '--cacert', ca, '--token', token.view]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /view has role viewer; DELETE \/v1\/networks\/:vni needs operator/);

  const log = await dvs(['audit-log', '--controller', url, '--cacert', ca, '--token-file', join(dir, 'admin.token')]);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, /ops \(operator\)\s+token 127\.0\.0\.1\s+POST \/v1\/networks\s+allowed 201\s+created/);
  assert.match(
    log.stdout,
    /CN=ops-cert \(operator\)\s+certificate 127\.0\.0\.1\s+PATCH \/v1\/networks\/200\s+allowed 200\s+changed mtu/,
  );
  assert.match(log.stdout, /view \(viewer\)\s+token 127\.0\.0\.1\s+DELETE \/v1\/networks\/200\s+refused 403/);
  assert.match(log.stdout, /anonymous\s+none 127\.0\.0\.1\s+POST \/v1\/networks\s+refused 401/);

  const asJson = JSON.parse(
    (await dvs(['audit-log', '--json', '--refused', '--controller', url, '--cacert', ca, '--token', token.admin]))
      .stdout,
  ) as { records: { outcome: string; who: { name: string }; status: number }[] };
  assert.ok(asJson.records.length >= 10);
  assert.ok(asJson.records.every((r) => r.outcome !== 'allowed'));
  const full = JSON.parse(
    (await dvs(['audit-log', '--json', '--controller', url, '--cacert', ca, '--token', token.admin])).stdout,
  ) as {
    records: {
      request: { method: string; path: string };
      before: { mtu: number } | null;
      after: { mtu: number } | null;
    }[];
  };
  const patch = full.records.find((r) => r.request.method === 'PATCH' && r.request.path === '/v1/networks/200');
  assert.deepEqual([patch?.before?.mtu, patch?.after?.mtu], [1450, 1400]);
  // The controller's log has one line per write too.
  assert.match(controller!.log(), /"msg":"api write refused".*"who":"view"/);

  const viewerLog = await dvs(['audit-log', '--controller', url, '--cacert', ca, '--token', token.view]);
  assert.equal(viewerLog.code, 1);
  assert.match(viewerLog.stderr, /needs admin/);
});

test('the CLI context file carries URL and credentials; flags and env override it', async () => {
  const config = join(dir, 'dvs-config.yaml');
  const env = { DVS_CONFIG: config };
  const set = await dvs(
    [
      ...['config', 'set-context', 'trust', '--controller', url, '--cacert', 'pki/api-ca.pem'],
      ...['--cert', 'pki/ops-cert.pem', '--key', 'pki/ops-cert-key.pem', '--use'],
    ],
    env,
  );
  assert.equal(set.code, 0, set.stderr);
  // Relative paths are taken from the config file's folder (dir), whatever the working directory.
  const created = await dvs(['networks', 'create', '--vni', '201', '--name', 'ctx-made'], env);
  assert.equal(created.code, 0, created.stderr);
  const listed = await dvs(['config', 'get-contexts'], env);
  assert.match(listed.stdout, /\*\s+trust\s+https:\/\/127\.0\.0\.1:\d+\s+certificate\s+pki\/api-ca\.pem/);
  // DVS_TOKEN wins over the context's certificate: a viewer token cannot write.
  const viewerWrite = await dvs(['networks', 'delete', '201'], { ...env, DVS_TOKEN: token.view });
  assert.equal(viewerWrite.code, 1);
  assert.match(viewerWrite.stderr, /needs operator/);
  // A context that is not there is a usage error naming the file.
  const missing = await dvs(['status', '--context', 'nope'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /context "nope" is not in .*dvs-config\.yaml/);
  // Without a CA the controller's certificate is not trusted: the CLI says it cannot reach it.
  const untrusted = await dvs(['status', '--controller', url, '--token', token.view]);
  assert.equal(untrusted.code, 1);
  assert.match(
    untrusted.stderr,
    /^dvs: controller not reachable at .* \(SELF_SIGNED_CERT_IN_CHAIN: the controller's certificate is not trusted; give the CA that signed it with --cacert\)/m,
  );
  assert.doesNotMatch(untrusted.stderr, /DeprecationWarning/);
});

test('insecure mode is refused off loopback, and so is a plain API without --insecure-local', async () => {
  const start = (args: string[]) =>
    run([process.execPath, CONTROLLER, '--etcd', etcd.endpoint, ...args], { allowFailure: true, timeoutMs: 20_000 });
  const offLoopback = await start(['--listen', '0.0.0.0:0', '--insecure-local']);
  assert.equal(offLoopback.code, 2);
  assert.match(offLoopback.stderr, /--insecure-local is refused: the API listens on 0\.0\.0\.0:0, not on loopback/);
  const plain = await start(['--listen', '127.0.0.1:0']);
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /the API needs TLS: give --tls-cert and --tls-key .* or --insecure-local/);
  const noAuth = await start([
    ...['--listen', '127.0.0.1:0', '--tls-cert', join(pki, 'controller-api.pem')],
    ...['--tls-key', join(pki, 'controller-api-key.pem')],
  ]);
  assert.equal(noAuth.code, 2);
  assert.match(noAuth.stderr, /needs a way to authenticate callers/);
});

test('an error nothing catches ends dvs-controller with one structured log line and exit 70 (systemd restarts it)', async () => {
  // A fault injected from outside the controller's code, once its handlers are in place (no timing guess).
  const fault =
    'data:text/javascript,const t = setInterval(() => { if (process.listenerCount("uncaughtException") > 0) ' +
    '{ clearInterval(t); setImmediate(() => { throw new Error("injected fault") }) } }, 10)';
  const r = await run(
    [
      ...[process.execPath, '--import', fault, CONTROLLER, '--etcd', etcd.endpoint, '--prefix', `${PREFIX}crash/`],
      ...['--listen', '127.0.0.1:0', '--insecure-local', '--id', 'ctl-crash'],
    ],
    { allowFailure: true, timeoutMs: 30_000 },
  );
  assert.equal(r.code, 70, r.stderr);
  const errors = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; msg: string; error?: string; daemon?: string })
    .filter((l) => l.level === 'error');
  assert.equal(errors.length, 1, r.stderr);
  assert.equal(errors[0]!.msg, 'uncaught exception: exiting so the supervisor restarts dvs-controller');
  assert.equal(errors[0]!.error, 'Error: injected fault');
});
