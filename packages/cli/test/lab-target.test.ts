// `--lab <id>[/<host>]`: parsing, host choice and errors (with a stand-in for
// @dvs/lab), and the controller client through a unix socket, as a lab's
// forwarder serves it. The real lab is in test/e2e/cli-lab.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentSocketPath, controllerTarget, type CliContext } from '../src/cli-context.js';
import { ControllerUnreachableError, EXIT_PROBLEM, EXIT_USAGE } from '../src/cli-errors.js';
import { ControllerClient } from '../src/clients/controller-client.js';
import type { LabEndpointsAnswer } from '../src/commands/lab-command.js';
import { resolveLabTarget } from '../src/lab-target.js';

const t1: LabEndpointsAnswer = {
  id: 't1aa',
  phase: 'up',
  controller: { url: 'http://198.51.100.1:7400', socketPath: '/run/dvs-lab/t1aa/controller.sock' },
  agents: [
    { host: 'h1', adminSocket: '/run/dvs-lab/t1aa/h1.sock' },
    { host: 'h2', adminSocket: '/run/dvs-lab/t1aa/h2.sock' },
  ],
};

/** A stand-in for @dvs/lab that knows one lab and checks ids as the lab does. */
const fakeLab = async () => ({
  labEndpoints: async (id: string, option = '--id') => {
    if (!/^[a-z0-9]{4}$/.test(id)) {
      throw Object.assign(new Error(`lab id "${id}" is invalid (${option})`), { code: 'DVS_LAB_BAD_SPEC' });
    }
    return id === t1.id ? t1 : null;
  },
});

test('an id gives the controller socket and the first dvs host; id/host picks the host', async () => {
  assert.deepEqual(await resolveLabTarget('t1aa', fakeLab), {
    id: 't1aa',
    controller: t1.controller,
    agent: { host: 'h1', socketPath: '/run/dvs-lab/t1aa/h1.sock' },
  });
  assert.deepEqual((await resolveLabTarget('t1aa/h2', fakeLab)).agent, {
    host: 'h2',
    socketPath: '/run/dvs-lab/t1aa/h2.sock',
  });
});

test('malformed specs and unknown hosts are usage errors; an unknown lab is exit 1', async () => {
  for (const spec of ['t1aa/h1/x', '/h1', 't1aa/', 'T1']) {
    await assert.rejects(resolveLabTarget(spec, fakeLab), (e: { exitCode?: number }) => e.exitCode === EXIT_USAGE);
  }
  await assert.rejects(resolveLabTarget('t1aa/h9', fakeLab), {
    exitCode: EXIT_USAGE,
    message: '--lab t1aa/h9: lab t1aa has no dvs host "h9" (its dvs hosts: h1, h2)',
  });
  await assert.rejects(resolveLabTarget('zz99', fakeLab), { code: 'DVS_LAB_NOT_FOUND', exitCode: EXIT_PROBLEM });
  await assert.rejects(
    resolveLabTarget('t1aa', async () => ({})),
    /the lab is not available: @dvs\/lab does not export labEndpoints\(\)/,
  );
});

test('the controller client reaches the API through a unix socket, with the URL as Host', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-cli-sock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'controller.sock');
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.headers.host} ${req.url} ${req.headers['content-type'] ?? '-'}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ hosts: [{ host: 'h1' }], network: { vni: 7 } }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    const client = new ControllerClient('http://198.51.100.1:7400', { socketPath, lab: 't1aa' });
    assert.deepEqual(await client.hosts(), [{ host: 'h1' }]);
    assert.deepEqual(await client.createNetwork({ vni: 7, name: 'n7', encap: 'vxlan' }), { vni: 7 });
    assert.deepEqual(seen, [
      'GET 198.51.100.1:7400 /v1/hosts -',
      'POST 198.51.100.1:7400 /v1/networks application/json',
    ]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // No forwarder socket (the lab is down): unreachable, and the message says which lab to look at.
  const gone = join(dir, 'gone.sock');
  await assert.rejects(
    new ControllerClient('http://198.51.100.1:7400', { socketPath: gone, lab: 't1aa' }).status(),
    (e: unknown) => {
      assert.ok(e instanceof ControllerUnreachableError);
      assert.equal(
        e.message,
        `controller of lab t1aa not reachable at http://198.51.100.1:7400 through ${gone} (ENOENT): is the lab up? dvs lab status --id t1aa`,
      );
      return true;
    },
  );
});

test('a lab stands in for the environment and the contexts; flags still win; --controller or --context with it is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-cli-lab-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ca.pem'), 'lab CA');
  await writeFile(join(dir, 'admin.token'), 'lab-admin-token\n');
  const lab = {
    id: 't1aa',
    controller: {
      url: 'https://198.51.100.1:7400',
      socketPath: join(dir, 'controller.sock'),
      cacert: join(dir, 'ca.pem'),
      tokenFile: join(dir, 'admin.token'),
    },
    agent: { host: 'h2', socketPath: join(dir, 'h2.sock') },
  };
  const ctx = (env: Record<string, string> = {}): CliContext => ({
    io: {
      stdout: () => undefined,
      stderr: () => undefined,
      stdoutIsTty: false,
      env: { DVS_CONFIG: join(dir, 'none.yaml'), ...env },
    },
    now: () => 0,
    signal: new AbortController().signal,
    exitCode: 0,
    lab,
  });
  const fromEnv = {
    DVS_CONTROLLER: 'https://ctl.example.net:7400',
    DVS_TOKEN: 'env-token',
    DVS_AGENT_SOCKET: '/env.sock',
  };
  const target = controllerTarget(ctx(fromEnv), {});
  assert.deepEqual(
    [target.url, target.source, target.socketPath, target.lab, target.credentials.token, String(target.credentials.ca)],
    [
      'https://198.51.100.1:7400',
      '--lab t1aa (controller)',
      lab.controller.socketPath,
      't1aa',
      'lab-admin-token',
      'lab CA',
    ],
  );
  assert.equal(agentSocketPath(ctx(fromEnv), {}), lab.agent.socketPath);
  assert.equal(agentSocketPath(ctx(fromEnv), { socket: '/flag.sock' }), '/flag.sock');
  assert.equal(controllerTarget(ctx(), { token: 'flag-token' }).credentials.token, 'flag-token');
  assert.throws(() => controllerTarget(ctx(), { controller: 'https://other:7400' }), {
    message: '--lab and --controller both choose a controller: give one of them',
  });
  assert.throws(() => controllerTarget(ctx(), { context: 'prod' }), {
    message: '--lab and --context both choose a controller: give one of them',
  });
  assert.throws(() => controllerTarget({ ...ctx(), lab: { ...lab, controller: null } }, {}), {
    code: 'DVS_LAB_NO_CONTROLLER',
  });
});
