// The real built `dvs` binary as a child process: start-up, help, exit codes,
// stderr without stack traces, output to a pipe (no colours), Ctrl-C in --watch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { FakeAgent } from './fake-agent.js';
import { FakeController, closedPort } from './fake-controller.js';
import { hosts, statusWithProblems, tunnels } from './cluster-fixtures.js';
import { DVS_BIN, hasStackTrace, runDvs } from './run-dvs.js';

let controller: FakeController;
let agent: FakeAgent;
let env: Record<string, string>;

before(async () => {
  controller = await new FakeController()
    .on('GET /v1/status', statusWithProblems)
    .on('GET /v1/tunnels', { tunnels })
    .on('GET /v1/hosts', { hosts })
    .start();
  agent = await new FakeAgent().on('ports/show', () => ({ text: 'PORT  MODE\ntap0  access', data: [] })).start();
  env = { DVS_CONTROLLER: controller.url, DVS_AGENT_SOCKET: agent.path };
});

after(async () => {
  await controller.stop();
  await agent.stop();
});

test('--help on the program and on commands: exit 0 with examples', async () => {
  const root = await runDvs(['--help']);
  assert.equal(root.code, 0);
  assert.match(root.stdout, /^Usage: dvs \[options\] \[command\]/);
  for (const args of [
    ['status', '--help'],
    ['fdb', 'add', '--help'],
    ['agent', 'tunnels', '--help'],
    ['help', 'trace'],
  ]) {
    const r = await runDvs(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Examples:\n {2}\$ dvs /, args.join(' '));
  }
  const version = await runDvs(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('the binary: usage error → 2, unreachable controller → 1, problems → 1, all without stack traces', async () => {
  const port = await closedPort();
  const [badMac, unknown, unreachable, status, json, ports] = await Promise.all([
    runDvs(['fdb', '--mac', 'zz'], env),
    runDvs(['frobnicate'], env),
    runDvs(['status'], { DVS_CONTROLLER: `http://127.0.0.1:${port}` }),
    runDvs(['status'], env),
    runDvs(['status', '--json'], env),
    runDvs(['agent', 'ports'], env),
  ]);
  assert.deepEqual(
    [badMac.code, unknown.code, unreachable.code, status.code, json.code, ports.code],
    [2, 2, 1, 1, 1, 0],
  );
  assert.equal(badMac.stderr, 'dvs: MAC "zz" is not a MAC address: expected six hex pairs like 02:00:00:00:00:01\n');
  assert.match(unknown.stderr, /^dvs: unknown command 'frobnicate'/);
  assert.match(
    unreachable.stderr,
    /^dvs: controller not reachable at .*: is dvs-controller running\? set --controller, DVS_CONTROLLER or a context \(dvs config\)\n$/,
  );
  for (const r of [badMac, unknown, unreachable]) assert.equal(hasStackTrace(r.stderr), false);
  assert.match(status.stdout, /PROBLEMS \(2\)/);
  assert.ok(!status.stdout.includes('\u001b['), 'no colours into a pipe');
  assert.deepEqual(JSON.parse(json.stdout), statusWithProblems);
  assert.equal(ports.stdout, 'PORT  MODE\ntap0  access\n');
});

test('--watch redraws until SIGINT and then exits 0 (NDJSON with --json)', async () => {
  const child = spawn(process.execPath, [DVS_BIN, 'tunnels', '--watch', '--interval', '0.1', '--json'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.split('\n').filter(Boolean).length >= 2) resolve();
    });
  });
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  const docs = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { tunnels: unknown[] });
  assert.ok(docs.length >= 2);
  for (const d of docs) assert.equal(d.tunnels.length, 3);
});

test('dvs lab runs the lab program from @dvs/lab', async () => {
  const r = await runDvs(['lab', '--help'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: dvs lab \[options\] \[command\]/);
  const bad = await runDvs(['lab', 'up', '--hosts', 'many'], env);
  assert.equal(bad.code, 2, 'a lab usage error is a usage error');
  assert.equal(hasStackTrace(bad.stderr), false);
});
