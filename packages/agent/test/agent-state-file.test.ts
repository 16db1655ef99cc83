// The agent state file: which run-time ports it keeps, its atomic write,
// restoring on start (config ports win), and a corrupt file kept aside.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import { Agent, validateConfig } from '../src/index.js';
import {
  formatStateFile,
  parseStateFile,
  readStateFile,
  writeStateFile,
  type StatePort,
} from '../src/ports/state-file.js';
import { FakeKernel } from './fake-devices.js';
import { CapturingLogger } from './etcd-sync-fakes.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dva-state-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startAgent(dir: string, kernel: FakeKernel, ports: unknown[] = []) {
  const logger = new CapturingLogger();
  const agent = new Agent({
    config: validateConfig({
      host: 'host-a',
      vtep: { address: '198.51.100.1' },
      stateFile: join(dir, 'agent-state.json'),
      networks: [{ vni: 100, peers: ['198.51.100.2'] }, { vni: 200 }],
      ports,
      health: { enabled: false },
    }),
    devices: kernel,
    logger,
    adminSocket: false,
    dataPath: { agingTimer: false },
  });
  await agent.start();
  return { agent, logger };
}

const ports: StatePort[] = [
  { name: 'vnet3', mapping: { mode: 'access', vni: 100 }, plug: 'attach', persistent: false },
  { name: 'tap9', mapping: { mode: 'trunk', vlans: new Map([[10, 100]]) }, plug: 'create', persistent: true },
];

test('the state file format round-trips and names what is wrong with a bad one', () => {
  const text = formatStateFile('host-a', ports, () => Date.UTC(2025, 0, 1));
  assert.deepEqual(JSON.parse(text), {
    format: 'dvs-agent-state',
    version: 1,
    host: 'host-a',
    savedAt: '2025-01-01T00:00:00.000Z',
    ports: [
      { name: 'vnet3', mapping: '100', plug: 'attach' },
      { name: 'tap9', mapping: 'trunk:10=100', plug: 'create', persistent: true },
    ],
  });
  assert.deepEqual(parseStateFile(text), ports);
  const cases: [string, RegExp][] = [
    [text.slice(0, text.length / 2), /^not JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ format: 'other', version: 1, ports: [] }), /format is "other"/],
    [JSON.stringify({ format: 'dvs-agent-state', version: 2, ports: [] }), /version 2/],
    [
      JSON.stringify({ format: 'dvs-agent-state', version: 1, ports: [{ name: 'a', mapping: '100', plug: 'steal' }] }),
      /ports\[0\]: plug "steal"/,
    ],
    [
      JSON.stringify({
        format: 'dvs-agent-state',
        version: 1,
        ports: [{ name: 'a/b', mapping: '100', plug: 'attach' }],
      }),
      /ports\[0\]: name "a\/b"/,
    ],
    [
      JSON.stringify({
        format: 'dvs-agent-state',
        version: 1,
        ports: [{ name: 'a', mapping: 'trunk:x', plug: 'attach' }],
      }),
      /ports\[0\]: mapping/,
    ],
    [
      JSON.stringify({
        format: 'dvs-agent-state',
        version: 1,
        ports: [
          { name: 'a', mapping: '100', plug: 'attach' },
          { name: 'a', mapping: '100', plug: 'attach' },
        ],
      }),
      /ports\[1\]: port a is listed twice/,
    ],
  ];
  for (const [bad, problem] of cases) assert.match(parseStateFile(bad) as string, problem);
});

test('a write replaces the file whole: a failed write leaves the old file, no temporary file stays', async () => {
  const dir = await tempDir();
  const path = join(dir, 'sub', 'agent-state.json');
  await writeStateFile(path, formatStateFile('host-a', ports));
  assert.deepEqual(await readdir(join(dir, 'sub')), ['agent-state.json'], 'directory made, temporary file renamed');
  const old = await readFile(path, 'utf8');
  // The temporary file's place is taken: the write fails before the rename.
  await mkdir(join(dir, 'sub', `.agent-state.json.tmp-${process.pid}`));
  await assert.rejects(writeStateFile(path, formatStateFile('host-a', [])));
  assert.equal(await readFile(path, 'utf8'), old, 'the old file is untouched');
  assert.deepEqual(await readStateFile(path), { status: 'ok', ports });
});

test('run-time ports the agent can get back are kept, and come back when it starts again; config ports win', async () => {
  const dir = await tempDir();
  const kernel = new FakeKernel(new FakeUdpNetwork());
  kernel.qemuTap('vnet3');
  kernel.precreate('old0');
  kernel.links.add('veth1', { kind: 'veth' });
  const first = await startAgent(dir, kernel);
  const access = { mode: 'access', vni: 100 } as const;
  await first.agent.addPort({ name: 'vnet3', mapping: access, plug: 'attach', persistent: false });
  await first.agent.addPort({ name: 'old0', mapping: { mode: 'access', vni: 200 }, plug: 'adopt', persistent: false });
  await first.agent.addPort({ name: 'tapP', mapping: access, plug: 'create', persistent: true });
  await first.agent.addPort({ name: 'tapN', mapping: access, plug: 'create', persistent: false });
  await first.agent.addPort({ name: 'veth1', mapping: access, plug: 'attach', persistent: false });
  await first.agent.removePort('veth1');
  const kept = await readStateFile(join(dir, 'agent-state.json'));
  assert.equal(kept.status, 'ok');
  assert.deepEqual(
    kept.status === 'ok' ? kept.ports.map((p) => [p.name, p.plug, p.persistent]) : [],
    [
      ['vnet3', 'attach', false],
      ['old0', 'adopt', false],
      ['tapP', 'create', true],
    ],
    'a created TAP that is not persistent goes with the agent, a removed port is forgotten',
  );
  await first.agent.stop();
  assert.ok(kernel.exists('tapP'), 'a persistent TAP outlives the agent');
  assert.ok(!kernel.exists('tapN'), 'a non-persistent one does not');

  // Started again, with old0 now in its config (as access port of VNI 100).
  const second = await startAgent(dir, kernel, [{ name: 'old0', vni: 100, plug: 'adopt' }]);
  cleanups.push(() => second.agent.stop());
  const views = second.agent.portViews();
  assert.deepEqual(
    views.map((v) => [v.name, v.origin, v.kind, v.state, v.vni]),
    [
      ['old0', 'config', 'tap-adopted', 'up', 100],
      ['tapP', 'runtime', 'tap-created', 'up', 100],
      ['vnet3', 'runtime', 'attach', 'up', 100],
    ],
  );
  assert.equal(second.logger.count('info', /^a state file port is also in the config/), 1);
  const rewritten = await readStateFile(join(dir, 'agent-state.json'));
  assert.deepEqual(
    rewritten.status === 'ok' ? rewritten.ports.map((p) => p.name) : [],
    ['vnet3', 'tapP'],
    "the config's port left the state file",
  );
  // ports/del of a persistent created TAP deletes it.
  await second.agent.removePort('tapP');
  assert.ok(!kernel.exists('tapP'));
});

test('a corrupt state file: the config ports start, one log line, the bad file is kept beside the new one', async () => {
  const dir = await tempDir();
  const path = join(dir, 'agent-state.json');
  const truncated = formatStateFile('host-a', ports).slice(0, 40);
  await writeFile(path, truncated);
  const kernel = new FakeKernel(new FakeUdpNetwork());
  const { agent, logger } = await startAgent(dir, kernel, [{ name: 'vm1', vni: 100 }]);
  cleanups.push(() => agent.stop());
  assert.deepEqual(
    agent.portViews().map((v) => v.name),
    ['vm1'],
  );
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1, 'one line');
  const line = logger.lines.find((l) => l.level === 'error');
  assert.match(line?.msg ?? '', /state file is corrupt: starting with the config's ports; the bad file is kept/);
  const files = (await readdir(dir)).sort();
  const corrupt = files.find((f) => f.startsWith('agent-state.json.corrupt-'));
  assert.ok(corrupt, `kept aside: ${files.join(', ')}`);
  assert.equal(line?.fields.keptAs, join(dir, corrupt));
  assert.equal(await readFile(join(dir, corrupt), 'utf8'), truncated, 'as it was');
  assert.deepEqual(await readStateFile(path), { status: 'ok', ports: [] }, 'a new, valid file');
});
