// Every command against a fake controller and a fake agent socket, run in
// process through runCli (the same program the binary runs): exit codes,
// messages, text and JSON output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAgent } from './fake-agent.js';
import { FakeController, closedPort } from './fake-controller.js';
import { blue, fdb, flood, hosts, statusOk, statusWithProblems, tunnels } from './cluster-fixtures.js';
import { hasStackTrace, runDvsInProcess as runDvs } from './run-dvs.js';

let controller: FakeController;
let agent: FakeAgent;
let portState = 'up';
let env: Record<string, string>;

before(async () => {
  controller = await new FakeController()
    .on('GET /v1/status', statusWithProblems)
    .on('GET /v1/hosts', { hosts })
    .on('GET /v1/networks', { networks: [blue] })
    .on('GET /v1/networks/100', { network: blue })
    .on('GET /v1/flood?vni=100', { floodLists: flood })
    .on('GET /v1/fdb', { entries: fdb })
    .on('GET /v1/fdb?vni=100', { entries: fdb })
    .on('GET /v1/fdb?mac=02%3A00%3A00%3A00%3A00%3A01', { entries: [fdb[0]] })
    .on('GET /v1/fdb?mac=02%3A00%3A00%3A00%3A00%3A77', { entries: [] })
    .on('GET /v1/tunnels', { tunnels })
    .on('GET /v1/tunnels?host=host-b', { tunnels: [tunnels[1]] })
    .on('POST /v1/networks', { network: { ...blue, vni: 200, name: 'red' } }, 201)
    .on('POST /v1/fdb', { entry: fdb[2] }, 201)
    .on('POST /v1/fdb/100/02:00:00:00:00:05/clear', {
      entry: null,
      cleared: { vni: 100, mac: '02:00:00:00:00:05' },
    })
    .on(
      'DELETE /v1/networks/300',
      { error: { code: 'DVS_NOT_FOUND', message: 'no network with vni 300', field: 'vni' } },
      404,
    )
    .on(
      'PATCH /v1/networks/100',
      { error: { code: 'DVS_FIELD_INVALID', message: 'mtu: must be at most 8950 for this underlay', field: 'mtu' } },
      400,
    )
    .start();
  agent = await new FakeAgent()
    .on('ports/show', () => ({
      text: 'PORT  MODE\ntap0  access',
      data: [{ name: 'tap0', mode: 'access', state: portState }],
    }))
    .on('ports/add', (args) => ({ text: `added port ${args[0]}`, data: { name: args[0], kind: 'attach' } }))
    .on('ports/del', (args) => ({ text: `removed port ${args[0]}`, data: { name: args[0] } }))
    .on('tunnels/show', (args) => ({
      text: `tunnels ${args.join(' ')}`,
      data: { host: 'host-a', peers: [{ state: 'up' }, { state: args[0] === 'x' ? 'up' : 'down' }] },
    }))
    .on('version', () => ({ text: 'dvs-agent 0.1.0 (host host-a)', data: { version: '0.1.0', host: 'host-a' } }))
    .on('fdb/show', (args) =>
      args[0] === '999'
        ? { error: { code: 'DVS_NOT_FOUND', message: 'no network 999' } }
        : { text: `fdb ${args.join(' ')}`, data: [] },
    )
    .start();
  env = { DVS_CONTROLLER: controller.url, DVS_AGENT_SOCKET: agent.path };
});

after(async () => {
  await controller.stop();
  await agent.stop();
});

test('usage errors exit 2 with a clear message and no stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['fdb', '--mac', '02:00:00:00:00'], /dvs: MAC "02:00:00:00:00" is not a MAC address: expected six hex pairs/],
    [['fdb', '--vni', '0'], /dvs: VNI must be an integer in 1\.\.16777215, got "0"/],
    [['networks', 'show', '16777216'], /VNI must be an integer/],
    [['trace', '--vni', '100', '--src', 'nope', '--dst', '02:00:00:00:00:02'], /--src "nope" is not a MAC address/],
    [['frobnicate'], /dvs: unknown command 'frobnicate'/],
    [['status', '--bogus'], /dvs: unknown option '--bogus'/],
    [['fdb', 'add', '--vni', '100'], /required option '--mac <mac>' not specified/],
    [['networks', 'create', '--vni', '5', '--name', 'x', '--encap', 'ipip'], /encap must be one of vxlan, gre-udp/],
    [['status', '--controller', 'not a url'], /--controller "not a url" is not a URL/],
    [['networks', 'update', '100'], /nothing to update/],
    [['networks', 'update', '100', '--arp-suppression', 'maybe'], /--arp-suppression must be on or off/],
  ];
  for (const [args, message] of cases) {
    const r = await runDvs(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(hasStackTrace(r.stderr), false, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('controller unreachable: exit 1 and a message that says what to do', async () => {
  const port = await closedPort();
  for (const args of [['status'], ['tunnels', '--json'], ['fdb']]) {
    const r = await runDvs(args, { DVS_CONTROLLER: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `dvs: controller not reachable at http://127.0.0.1:${port} (ECONNREFUSED): is dvs-controller running? set --controller, DVS_CONTROLLER or a context (dvs config)\n`,
    );
  }
  const flag = await runDvs(['hosts', '--controller', `http://127.0.0.1:${port}`]);
  assert.match(
    flag.stderr,
    new RegExp(`not reachable at http://127\\.0\\.0\\.1:${port}`),
    '--controller wins over the env',
  );
});

test('agent socket unreachable: exit 1, names the socket and the fix', async () => {
  const r = await runDvs(['agent', 'ports'], { DVS_AGENT_SOCKET: '/nonexistent/agent.sock' });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^dvs: agent admin socket not reachable at \/nonexistent\/agent\.sock \(ENOENT\): is dvs-agent running .* set --socket or DVS_AGENT_SOCKET\n$/,
  );
});

test('status: problems first in text, controller body as JSON, exit 1 on problems, 0 without', async () => {
  const text = await runDvs(['status'], env);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /PROBLEMS \(2\)\n {2}host-down/);
  assert.ok(!text.stdout.includes('\u001b['), 'no colours when stdout is not a terminal');
  const json = await runDvs(['status', '--json'], env);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), statusWithProblems);
  const okController = await new FakeController().on('GET /v1/status', statusOk).start();
  try {
    const ok = await runDvs(['status'], { DVS_CONTROLLER: okController.url });
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /no problems/);
  } finally {
    await okController.stop();
  }
});

test('tunnels: table and JSON rows, --host filter, exit 1 when one is down', async () => {
  const text = await runDvs(['tunnels'], env);
  assert.equal(text.code, 1);
  assert.match(text.stdout.split('\n')[1], /^host-a\s+192\.0\.2\.2:4789\s+host-b\s+vxlan\s+down\s.*probe timeout$/);
  const json = await runDvs(['tunnels', '--json'], env);
  const body = JSON.parse(json.stdout) as {
    tunnels: { host: string; peer: unknown; peerHost: string | null; state: string; reason: string }[];
  };
  assert.deepEqual(
    body.tunnels.map((t) => [t.host, t.peer, t.peerHost, t.state, t.reason]),
    [
      ['host-a', { address: '192.0.2.2', port: 4789 }, 'host-b', 'down', 'probe timeout'],
      ['host-b', { address: '192.0.2.1', port: 4789 }, 'host-a', 'up', 'replies received'],
      ['host-a', { address: '203.0.113.9', port: 4789 }, null, 'unmonitored', 'external peer'],
    ],
  );
  const one = await runDvs(['tunnels', '--host', 'host-b'], env);
  assert.equal(one.code, 0);
  assert.ok(controller.requests.some((r) => r.url === '/v1/tunnels?host=host-b'));
});

test('fdb: filters go to the controller, a missing --mac is a problem (exit 1)', async () => {
  const found = await runDvs(['fdb', '--mac', '02-00-00-00-00-01'], env);
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /02:00:00:00:00:01\s+host-a/);
  const missing = await runDvs(['fdb', '--mac', '02:00:00:00:00:77'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /MAC 02:00:00:00:00:77 is not in the FDB/);
  const all = await runDvs(['fdb', '--vni', '100', '--json'], env);
  assert.equal(all.code, 1, 'a duplicate shown is a problem');
  assert.deepEqual(JSON.parse(all.stdout), { entries: fdb });
});

test('networks and static FDB writes send the documented bodies', async () => {
  const created = await runDvs(
    [
      'networks',
      'create',
      '--vni',
      '200',
      '--name',
      'red',
      '--encap',
      'gre-udp',
      '--mtu',
      '1400',
      '--external-vtep',
      '203.0.113.10:4754',
      '--external-vtep',
      '203.0.113.11',
    ],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created network 200 \(red\)/);
  assert.deepEqual(controller.requests.find((r) => r.method === 'POST' && r.url === '/v1/networks')?.body, {
    vni: 200,
    name: 'red',
    encap: 'gre-udp',
    mtu: 1400,
    externalVteps: [{ address: '203.0.113.10', port: 4754 }, { address: '203.0.113.11' }],
  });
  const add = await runDvs(
    ['fdb', 'add', '--vni', '100', '--mac', '02:00:00:00:00:99', '--vtep', '203.0.113.9', '--json'],
    env,
  );
  assert.equal(add.code, 0, add.stderr);
  assert.deepEqual(JSON.parse(add.stdout), { entry: fdb[2] });
  assert.deepEqual(controller.requests.find((r) => r.method === 'POST' && r.url === '/v1/fdb')?.body, {
    vni: 100,
    mac: '02:00:00:00:00:99',
    address: '203.0.113.9',
  });
  const list = await runDvs(['networks', 'list'], env);
  assert.match(list.stdout, /^100\s+blue\s+vxlan/m);
  const show = await runDvs(['networks', 'show', '100', '--json'], env);
  const older = 'the agent predates datapath providers: userspace';
  const both = { sflow: true, ipfix: true };
  assert.deepEqual(JSON.parse(show.stdout), {
    network: blue,
    floodList: flood[0],
    // host-a and host-b have a port in VNI 100; their records (agents before 1.3) name no VXLAN owner.
    datapaths: [
      { host: 'host-a', state: 'up', provider: 'userspace', reason: older, mismatch: false, flowExport: both },
      { host: 'host-b', state: 'up', provider: 'userspace', reason: older, mismatch: false, flowExport: both },
    ],
  });
});

test('networks create/update --allowed-hosts/--allowed-labels send the membership lists; "" lifts one', async () => {
  const created = await runDvs(
    [
      'networks',
      'create',
      '--vni',
      '400',
      '--name',
      'pci',
      '--allowed-hosts',
      'host-a, host-b',
      '--allowed-labels',
      'zone=pci',
    ],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  const sent = controller.requests.filter((r) => r.method === 'POST' && r.url === '/v1/networks').at(-1)?.body;
  assert.deepEqual(sent, { vni: 400, name: 'pci', allowedHosts: ['host-a', 'host-b'], allowedLabels: ['zone=pci'] });
  await runDvs(['networks', 'update', '100', '--allowed-hosts', ''], env);
  const patch = controller.requests.filter((r) => r.method === 'PATCH' && r.url === '/v1/networks/100').at(-1)?.body;
  assert.deepEqual(patch, { allowedHosts: [] });
  const badHost = await runDvs(['networks', 'create', '--vni', '401', '--name', 'x', '--allowed-hosts', 'a/b'], env);
  assert.equal(badHost.code, 2);
  assert.match(badHost.stderr, /--allowed-hosts: "a\/b" is not a host id/);
  const badLabel = await runDvs(['networks', 'create', '--vni', '401', '--name', 'x', '--allowed-labels', 'zone'], env);
  assert.equal(badLabel.code, 2);
  assert.match(badLabel.stderr, /--allowed-labels: "zone" is not a label: key=value/);
});

test('networks create/update --sflow/--ipfix send flowExport with only the exporters given; a bad word is refused', async () => {
  const created = await runDvs(['networks', 'create', '--vni', '410', '--name', 'quiet', '--sflow', 'off'], env);
  assert.equal(created.code, 0, created.stderr);
  const sent = controller.requests.filter((r) => r.method === 'POST' && r.url === '/v1/networks').at(-1)?.body;
  assert.deepEqual(sent, { vni: 410, name: 'quiet', flowExport: { sflow: false } });
  await runDvs(['networks', 'update', '100', '--ipfix', 'off', '--sflow', 'on'], env);
  const patch = controller.requests.filter((r) => r.method === 'PATCH' && r.url === '/v1/networks/100').at(-1)?.body;
  assert.deepEqual(patch, { flowExport: { sflow: true, ipfix: false } });
  const bad = await runDvs(['networks', 'update', '100', '--ipfix', 'sometimes'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ipfix must be on or off/);
  const list = await runDvs(['networks', 'list'], env);
  assert.match(list.stdout, /FLOW-EXPORT/);
  assert.match(list.stdout, /^100\s+blue\s+.*\ssflow,ipfix\s/m);
});

test('fdb clear-duplicate: shows what the controller cleared (its answer has entry: null)', async () => {
  const text = await runDvs(['fdb', 'clear-duplicate', '--vni', '100', '--mac', '02-00-00-00-00-05'], env);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    text.stdout,
    'cleared: vni 100 02:00:00:00:00:05 (duplicate flag and move history dropped; ' +
      'the controller re-decides its location: dvs fdb --mac 02:00:00:00:00:05)\n',
  );
  assert.ok(controller.requests.some((r) => r.method === 'POST' && r.url === '/v1/fdb/100/02:00:00:00:00:05/clear'));
  const json = await runDvs(['fdb', 'clear-duplicate', '--vni', '100', '--mac', '02:00:00:00:00:05', '--json'], env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { entry: null, cleared: { vni: 100, mac: '02:00:00:00:00:05' } });
});

test("controller error bodies: 404 → exit 1, 400 → exit 2, the controller's message shown", async () => {
  const gone = await runDvs(['networks', 'delete', '300'], env);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'dvs: no network with vni 300\n');
  const bad = await runDvs(['networks', 'update', '100', '--mtu', '9000'], env);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'dvs: mtu: must be at most 8950 for this underlay\n');
});

test('agent views pass through text and data; tunnels exit 1 when one is down; agent errors are clear', async () => {
  const ports = await runDvs(['agent', 'ports'], env);
  assert.equal(ports.code, 0);
  assert.equal(ports.stdout, 'PORT  MODE\ntap0  access\n');
  const portsJson = await runDvs(['agent', 'ports', '--json'], env);
  assert.deepEqual(JSON.parse(portsJson.stdout), [{ name: 'tap0', mode: 'access', state: 'up' }]);
  portState = 'gone';
  assert.equal((await runDvs(['agent', 'ports'], env)).code, 1, 'a port whose device is gone is a problem');
  portState = 'up';
  const down = await runDvs(['agent', 'tunnels'], env);
  assert.equal(down.code, 1);
  const up = await runDvs(['agent', 'tunnels', 'x', '--socket', agent.path], { DVS_AGENT_SOCKET: '/nonexistent' });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, 'tunnels x\n');
  const fdbVni = await runDvs(['agent', 'fdb', '100'], env);
  assert.equal(fdbVni.stdout, 'fdb 100\n');
  const notFound = await runDvs(['agent', 'call', 'fdb/show', '999'], env);
  assert.equal(notFound.code, 1);
  assert.equal(notFound.stderr, 'dvs: agent: no network 999 (DVS_NOT_FOUND)\n');
  const unknown = await runDvs(['agent', 'call', 'frob/nicate'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command frob\/nicate/);
  assert.deepEqual(
    agent.calls.find((c) => c.command === 'frob/nicate'),
    { command: 'frob/nicate', args: [] },
  );
});

test('dvs agent ports add/del pass the plug word (create, adopt, attach) and --persistent to the agent', async () => {
  const added = await runDvs(['agent', 'ports', 'add', 'vnet3', '100', 'attach'], env);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'added port vnet3\n');
  await runDvs(['agent', 'ports', 'add', 'tap0', '100'], env);
  const persistent = await runDvs(
    ['agent', 'ports', 'add', 'tap1', 'trunk:10=100', 'create', '--persistent', '--json'],
    env,
  );
  assert.deepEqual(JSON.parse(persistent.stdout), { name: 'tap1', kind: 'attach' });
  assert.deepEqual(
    agent.calls.filter((c) => c.command === 'ports/add').map((c) => c.args),
    [
      ['vnet3', '100', 'attach'],
      ['tap0', '100', 'create'],
      ['tap1', 'trunk:10=100', 'create', 'persistent'],
    ],
  );
  const bad = await runDvs(['agent', 'ports', 'add', 'vnet3', '100', 'borrow'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Allowed choices are create, adopt, attach/);
  const del = await runDvs(['agent', 'ports', 'del', 'vnet3'], env);
  assert.equal(del.stdout, 'removed port vnet3\n');
});

test('trace: an agent without the trace command is a clear error (exit 1), and the controller is never asked', async () => {
  const asked = controller.requests.length;
  const r = await runDvs(['trace', '--vni', '100', '--src', '02:00:00:00:00:01', '--dst', '02:00:00:00:00:02'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /this agent has no trace command: upgrade dvs-agent on that host/);
  assert.ok(!hasStackTrace(r.stderr));
  assert.equal(controller.requests.length, asked, 'no explanation made up from the controller tables');
});

test("trace: the agent's data path answers (labelled), port and length are passed on, a drop exits 1", async () => {
  const report = (args: string[]) => ({
    vni: Number(args[0]),
    src: args[1],
    dst: args[2],
    port: args[3] ?? null,
    steps: [{ step: 'lookup', result: 'FDB miss: flood' }],
    decision:
      args[0] === '999'
        ? { action: 'drop', dropReason: 'unknown-vni', reason: 'VNI 999 is not a network on this host', outputs: [] }
        : {
            action: 'flood',
            dropReason: null,
            reason: 'unknown unicast',
            outputs: [
              {
                kind: 'vtep',
                vtep: '192.0.2.2:4789',
                address: '192.0.2.2',
                udpPort: 4789,
                encap: 'vxlan',
                tunnelHeader: '0800000000006400',
              },
            ],
          },
  });
  const dataPath = await new FakeAgent()
    .on('trace', (args) => ({ text: `trace VNI ${args[0]} (agent text)\n`, data: report(args) }))
    .on('version', () => ({ text: 'dvs-agent', data: { version: '0.1.0', host: 'host-a' } }))
    .start();
  try {
    const base = ['trace', '--vni', '100', '--src', '02:00:00:00:00:01', '--dst', '02:00:00:00:00:09'];
    const asked = controller.requests.length;
    const text = await runDvs([...base, '--socket', dataPath.path, '--port', 'tap0'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, `source: data path (agent ${dataPath.path})\ntrace VNI 100 (agent text)\n`);
    assert.deepEqual(dataPath.calls[0], {
      command: 'trace',
      args: ['100', '02:00:00:00:00:01', '02:00:00:00:00:09', 'tap0'],
    });
    const json = await runDvs([...base, '--socket', dataPath.path, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { source: string; host: string; port: null; decision: unknown };
    assert.equal(body.source, `data path (agent ${dataPath.path})`);
    assert.equal(body.host, 'host-a');
    assert.deepEqual(body.decision, report(['100']).decision);
    assert.equal(controller.requests.length, asked, 'the data path answered alone: the controller was not asked');
    const dropped = await runDvs(
      ['trace', '--vni', '999', '--src', '02:00:00:00:00:01', '--dst', '02:00:00:00:00:09', '--socket', dataPath.path],
      env,
    );
    assert.equal(dropped.code, 1);
    // A length without a port: the port place holds "-".
    await runDvs([...base, '--socket', dataPath.path, '--length', '1500'], env);
    assert.deepEqual(dataPath.calls.at(-1), {
      command: 'trace',
      args: ['100', '02:00:00:00:00:01', '02:00:00:00:00:09', '-', '1500'],
    });
    const tooShort = await runDvs([...base, '--socket', dataPath.path, '--length', '10'], env);
    assert.equal(tooShort.code, 2);
    assert.match(tooShort.stderr, /--length must be a frame length in bytes/);
  } finally {
    await dataPath.stop();
  }
});
