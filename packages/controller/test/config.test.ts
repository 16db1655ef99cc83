import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseControllerArgs } from '../src/config.js';
import { ControllerError } from '../src/index.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

test('defaults and environment fallbacks', () => {
  const parsed = parseControllerArgs([], { DVS_ETCD_ENDPOINTS: 'http://192.0.2.1:2379,http://192.0.2.2:2379' });
  assert.ok(parsed);
  assert.deepEqual(parsed.options.etcd.endpoints, ['http://192.0.2.1:2379', 'http://192.0.2.2:2379']);
  assert.equal(parsed.options.listen, '127.0.0.1:7400');
  assert.equal(parsed.options.prefix, '/dvs/v1/');
  assert.equal(parsed.options.electionTtlSeconds, 10);
  assert.deepEqual(parsed.options.dampening, { maxMoves: 5, windowMs: 180_000 });
  assert.deepEqual(parsed.options.stalePolicy, { graceMs: 600_000, probes: true, returnWindowMs: 15_000 });
  const eject = parseControllerArgs(['--stale-grace', '0', '--stale-probes', 'off', '--stale-return', '5'], {});
  assert.deepEqual(eject?.options.stalePolicy, { graceMs: 0, probes: false, returnWindowMs: 5000 });
  const withUser = parseControllerArgs(['--etcd-user', 'controller'], { DVS_ETCD_PASSWORD: 's3cret' });
  assert.equal(withUser?.options.etcd.password, 's3cret');
  assert.equal(parseControllerArgs(['--help']), null);
});

test('every mistake names its flag', () => {
  const cases: [string[], string][] = [
    [['--etcd', 'localhost:2379'], 'etcd'],
    [['--etcd-cert', '/x.pem'], 'etcd-cert'],
    [['--etcd-cert', '/x.pem', '--etcd-key', '/y.pem'], 'etcd-ca'],
    [['--prefix', 'dvs'], 'prefix'],
    [['--log-level', 'loud'], 'log-level'],
    [['--election-ttl', '1'], 'election-ttl'],
    [['--dampen-moves', 'five'], 'dampen-moves'],
    [['--id', 'a/b'], 'id'],
    [['--stale-grace', 'soon'], 'stale-grace'],
    [['--stale-probes', 'yes'], 'stale-probes'],
    [['--stale-return', '0'], 'stale-return'],
  ];
  for (const [argv, field] of cases) {
    assert.throws(
      () => parseControllerArgs(argv, {}),
      (err: unknown) => err instanceof ControllerError && err.code === 'DVS_CONFIG_INVALID' && err.field === field,
      argv.join(' '),
    );
  }
});

test('the binary: --help exits 0, bad flags exit 2 with one clear line, no stack trace', () => {
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: dvs-controller/);
  const bad = spawnSync(process.execPath, [MAIN, '--listen'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^dvs-controller: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  const missing = spawnSync(process.execPath, [MAIN, '--etcd-ca', '/nonexistent/ca.pem'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--etcd-ca: file \/nonexistent\/ca.pem does not exist/);
});
