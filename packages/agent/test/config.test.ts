import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseConfigText, validateConfig } from '../src/index.js';

const NO_QOS = { ingress: null, egress: null };

const base = { host: 'host-a', vtep: { address: '198.51.100.1' } };

function problem(raw: unknown): ConfigError {
  try {
    validateConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'DVS_CONFIG_INVALID');
    return err;
  }
  assert.fail('config accepted');
}

test('defaults fill everything but host and VTEP address', () => {
  const c = validateConfig(base);
  assert.equal(c.adminSocket, '/run/dvs/agent.sock');
  assert.deepEqual(c.vtep, {
    address: '198.51.100.1',
    vxlanPort: 4789,
    grePort: 4754,
    probePort: 4793,
    sourcePorts: { count: 16 },
  });
  assert.deepEqual(c.fdb, {
    agingSeconds: 300,
    maxEntriesPerVni: 8192,
    confirmMoveMs: 1000,
    localHoldMs: 2000,
    reportsPerSecond: 200,
    reportBurst: 400,
  });
  assert.equal(c.metrics, null);
  assert.equal(c.etcd, null);
  assert.equal(c.stateFile, '/var/lib/dvs/agent-state.json');
});

test('ports: plug create (default), adopt or attach; persistent only for created TAPs; the old attach field is named', () => {
  const ports = validateConfig({
    ...base,
    ports: [
      { name: 'tap0', vni: 100 },
      { name: 'tap1', vni: 100, plug: 'create', persistent: true },
      { name: 'old0', vni: 100, plug: 'adopt' },
      { name: 'vnet3', mode: 'trunk', vlans: { 10: 100 }, plug: 'attach' },
    ],
  }).ports;
  assert.deepEqual(
    ports.map((p) => [p.name, p.plug, p.persistent]),
    [
      ['tap0', 'create', false],
      ['tap1', 'create', true],
      ['old0', 'adopt', false],
      ['vnet3', 'attach', false],
    ],
  );
  const renamed = problem({ ...base, ports: [{ name: 't', vni: 1, attach: 'adopt' }] });
  assert.equal(renamed.field, 'ports[0].attach');
  assert.match(renamed.message, /is now called plug.*plug: adopt/);
  const steal = problem({ ...base, ports: [{ name: 't', vni: 1, plug: 'steal' }] });
  assert.equal(steal.field, 'ports[0].plug');
  assert.match(steal.fix, /create, adopt, attach/);
  for (const plug of ['adopt', 'attach']) {
    const p = problem({ ...base, ports: [{ name: 't', vni: 1, plug, persistent: true }] });
    assert.equal(p.field, 'ports[0].persistent');
    assert.match(p.message, new RegExp(`not to plug: ${plug}`));
  }
  assert.equal(problem({ ...base, ports: [{ name: 't', vni: 1, persistent: 'yes' }] }).field, 'ports[0].persistent');
  assert.equal(validateConfig({ ...base, stateFile: null }).stateFile, null);
  assert.equal(validateConfig({ ...base, stateFile: 'off' }).stateFile, null);
  assert.equal(validateConfig({ ...base, stateFile: '/tmp/x.json' }).stateFile, '/tmp/x.json');
  assert.equal(problem({ ...base, stateFile: 7 }).field, 'stateFile');
});

test('port qos and network arpSuppression: defaults, and bad values named with a fix', () => {
  const c = validateConfig({
    ...base,
    networks: [{ vni: 100, arpSuppression: true }],
    ports: [{ name: 't', vni: 100, qos: { ingress: { rate: 8000 } } }],
  });
  assert.equal(c.networks[0].arpSuppression, true);
  assert.deepEqual(c.ports[0].qos, { ingress: { rateKbps: 8000, burstKb: 800 }, egress: null });
  const zero = problem({ ...base, ports: [{ name: 't', vni: 1, qos: { ingress: { rate: 0 } } }] });
  assert.equal(zero.field, 'ports[0].qos.ingress.rate');
  assert.match(zero.fix, /kbit\/s/);
  const small = problem({ ...base, ports: [{ name: 't', vni: 1, qos: { egress: { rate: 8000, burst: 10 } } }] });
  assert.equal(small.field, 'ports[0].qos.egress.burst');
  assert.equal(problem({ ...base, ports: [{ name: 't', vni: 1, qos: { both: {} } }] }).field, 'ports[0].qos.both');
  assert.equal(problem({ ...base, networks: [{ vni: 1, arpSuppression: 'on' }] }).field, 'networks[0].arpSuppression');
});

test('network flowExport: each exporter left out stays on; bad values named with a fix', () => {
  const c = validateConfig({ ...base, networks: [{ vni: 100, flowExport: { sflow: false } }, { vni: 200 }] });
  assert.deepEqual(c.networks[0].flowExport, { sflow: false, ipfix: true });
  assert.deepEqual(c.networks[1].flowExport, { sflow: true, ipfix: true });
  assert.equal(problem({ ...base, networks: [{ vni: 1, flowExport: 'off' }] }).field, 'networks[0].flowExport');
  const word = problem({ ...base, networks: [{ vni: 1, flowExport: { ipfix: 'no' } }] });
  assert.equal(word.field, 'networks[0].flowExport.ipfix');
  assert.match(word.fix, /ipfix: false/);
  assert.equal(
    problem({ ...base, networks: [{ vni: 1, flowExport: { netflow: false } }] }).field,
    'networks[0].flowExport.netflow',
  );
});

test('vtep.sourcePorts: a count, a range (object or "min-max") or off; bad ones named with the fix', () => {
  const ports = (sourcePorts: unknown): unknown =>
    validateConfig({ ...base, vtep: { ...base.vtep, sourcePorts } }).vtep.sourcePorts;
  assert.deepEqual(ports(4), { count: 4 });
  assert.deepEqual(ports({ min: 49152, max: 49167 }), { min: 49152, max: 49167 });
  assert.deepEqual(ports('50000-50255'), { min: 50000, max: 50255 });
  assert.equal(ports('off'), null);
  for (const bad of [
    0,
    257,
    1.5,
    { min: 10 },
    { min: 5, max: 4 },
    { min: 1, max: 70000 },
    '50000-50256',
    'many',
    { min: 1, max: 2, step: 1 },
  ]) {
    const err = problem({ ...base, vtep: { ...base.vtep, sourcePorts: bad } });
    assert.equal(err.field, 'vtep.sourcePorts', JSON.stringify(bad));
    assert.equal(err.code, 'DVS_CONFIG_INVALID');
    assert.match(err.fix, /count 1\.\.256.*range.*off/);
  }
});

test('offloads: on by default, on|off (or a boolean), anything else named', () => {
  assert.equal(validateConfig(base).offloads, true);
  assert.equal(validateConfig({ ...base, offloads: 'off' }).offloads, false);
  assert.equal(validateConfig({ ...base, offloads: false }).offloads, false);
  assert.equal(validateConfig({ ...base, offloads: 'on' }).offloads, true);
  const err = problem({ ...base, offloads: 'tso' });
  assert.equal(err.field, 'offloads');
  assert.match(err.fix, /on, off/);
});

test('busyPollUs: off (0) by default, microseconds 0..10000, anything else named with the range', () => {
  assert.equal(validateConfig(base).busyPollUs, 0);
  assert.equal(validateConfig({ ...base, busyPollUs: 100 }).busyPollUs, 100);
  assert.equal(validateConfig({ ...base, busyPollUs: '50' }).busyPollUs, 50);
  for (const bad of [-1, 10_001, 1.5, 'fast', true]) {
    const err = problem({ ...base, busyPollUs: bad });
    assert.equal(err.field, 'busyPollUs', JSON.stringify(bad));
    assert.equal(err.code, 'DVS_CONFIG_INVALID');
    assert.match(err.fix, /microseconds.*0\.\.10000/);
  }
});

test('each invalid field is named with a fix', () => {
  assert.equal(problem({ vtep: base.vtep }).field, 'host');
  assert.equal(problem({ ...base, vtep: { address: 'fe80::1%eth0' } }).field, 'vtep.address');
  assert.equal(problem({ ...base, vtep: { address: 'host-b' } }).field, 'vtep.address');
  assert.equal(problem({ ...base, networks: [{ vni: 1, peers: ['2001:db8::2'] }] }).field, 'networks[0].peers[0]');
  assert.equal(problem({ ...base, networks: [{ vni: 100, mtu: 20000 }] }).field, 'networks[0].mtu');
  assert.match(problem({ ...base, networks: [{ vni: 100, mtu: 20000 }] }).fix, /underlay MTU − 50/);
  assert.equal(problem({ ...base, networks: [{ vni: 100, encap: 'geneve' }] }).field, 'networks[0].encap');
  assert.equal(problem({ ...base, networks: [{ vni: 1 }, { vni: 1 }] }).field, 'networks[1].vni');
  assert.equal(problem({ ...base, networks: [{ vni: 1, peers: ['198.51.100.300'] }] }).field, 'networks[0].peers[0]');
  assert.equal(problem({ ...base, networks: [{ vni: 1 }], ports: [{ name: 't', vni: 2 }] }).field, 'ports[0].vni');
  assert.equal(
    problem({ ...base, ports: [{ name: 't', mode: 'trunk', vlans: { 5000: 1 } }] }).field,
    'ports[0].vlans.5000',
  );
  assert.equal(problem({ ...base, agingSeconds: 3 }).field, 'agingSeconds');
  assert.equal(problem({ ...base, fdb: { agingSeconds: 0 } }).field, 'fdb.agingSeconds');
  assert.equal(problem({ ...base, metrics: 'nowhere' }).field, 'metrics');
  assert.equal(
    problem({ ...base, networks: [{ vni: 1, fdb: [{ mac: '02:00:00:00:00:01', port: 'x' }] }] }).field,
    'networks[0].fdb[0].port',
  );
  assert.equal(problem({ ...base, flowExport: { sflow: { collectors: [] } } }).field, 'flowExport.sflow.collectors');
  assert.equal(
    problem({ ...base, flowExport: { sflow: { collectors: ['192.0.2.50'], sampling: 0 } } }).field,
    'flowExport.sflow.sampling',
  );
  assert.equal(
    problem({ ...base, flowExport: { ipfix: { collectors: ['192.0.2.50:70000'] } } }).field,
    'flowExport.ipfix.collectors[0]',
  );
  assert.equal(problem({ ...base, flowExport: { ipfix: { idle: 5 } } }).field, 'flowExport.ipfix.idle');
});

test('YAML file plus flags: flags override and add', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dva-config-'));
  try {
    const file = join(dir, 'agent.yaml');
    await writeFile(
      file,
      [
        'host: host-a',
        'vtep: { address: 198.51.100.1 }',
        'networks:',
        '  - vni: 100',
        '    peers: [198.51.100.2, "198.51.100.3:5000"]',
        '    fdb: [{ mac: "02:00:00:00:00:09", vtep: 198.51.100.2 }]',
        'ports:',
        '  - { name: tap1, mode: trunk, vlans: { 10: 100 } }',
      ].join('\n'),
    );
    const { config } = await loadConfig([
      '--config',
      file,
      '--host',
      'host-z',
      '--network',
      '200:gre-udp:1400',
      '--peer',
      '200=198.51.100.4',
      '--port',
      'tap2=200/adopt',
      '--port',
      'vnet3=200/attach',
      '--port',
      'tap4=200/create/persistent',
      '--state-file',
      join(dir, 'state.json'),
      '--metrics',
      '127.0.0.1:0',
    ]);
    assert.ok(config !== null);
    assert.equal(config.host, 'host-z');
    assert.deepEqual(config.networks[0].peers, [
      { address: '198.51.100.2', port: 4789 },
      { address: '198.51.100.3', port: 5000 },
    ]);
    assert.deepEqual(config.networks[0].floodList, config.networks[0].peers, 'flood list defaults to peers');
    assert.deepEqual(config.networks[1], {
      vni: 200,
      name: 'vni-200',
      encap: 'gre-udp',
      mtu: 1400,
      arpSuppression: false,
      flowExport: { sflow: true, ipfix: true },
      peers: [{ address: '198.51.100.4', port: 4754 }],
      externalVteps: [],
      floodList: [{ address: '198.51.100.4', port: 4754 }],
      fdb: [],
      datapath: 'auto',
    });
    assert.deepEqual(config.ports[1], {
      name: 'tap2',
      mode: 'access',
      vni: 200,
      plug: 'adopt',
      persistent: false,
      qos: NO_QOS,
    });
    assert.deepEqual(config.ports[2], {
      name: 'vnet3',
      mode: 'access',
      vni: 200,
      plug: 'attach',
      persistent: false,
      qos: NO_QOS,
    });
    assert.deepEqual(config.ports[3], {
      name: 'tap4',
      mode: 'access',
      vni: 200,
      plug: 'create',
      persistent: true,
      qos: NO_QOS,
    });
    assert.equal(config.stateFile, join(dir, 'state.json'));
    assert.equal(config.ports[0].mode, 'trunk');
    assert.deepEqual(config.metrics, { host: '127.0.0.1', port: 0 });
    await assert.rejects(loadConfig(['--config', join(dir, 'missing.yaml')]), {
      code: 'DVS_CONFIG_INVALID',
      field: '--config',
    });
    await assert.rejects(loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--peer', '7=198.51.100.2']), {
      field: '--peer',
    });
    await assert.rejects(loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--port', 'x=trunk:1']), {
      field: '--port',
    });
    await assert.rejects(loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--port', 'x=100/borrow']), {
      field: '--port',
      message: /NAME=MAPPING\[\/create\|adopt\|attach\]\[\/persistent\]/,
    });
    await assert.rejects(
      loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--port', 'x=100/attach/persistent']),
      { field: 'ports[0].persistent' },
    );
    const off = await loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--state-file', 'off']);
    assert.equal(off.config?.stateFile, null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('YAML syntax errors are config errors too', () => {
  assert.throws(() => parseConfigText('host: [unclosed'), { code: 'DVS_CONFIG_INVALID' });
});

test('deploy/examples/agent.yaml (every option) is a valid config', async () => {
  const example = fileURLToPath(new URL('../../../../deploy/examples/agent.yaml', import.meta.url));
  const { config } = await loadConfig(['--config', example]);
  assert.ok(config !== null);
  assert.equal(config.networks.length, 2);
  assert.deepEqual(
    config.networks[0].floodList.map((v) => v.address),
    ['198.51.100.2', '198.51.100.3', '198.51.100.20'],
  );
  assert.equal(config.ports[1].mode, 'trunk');
  assert.deepEqual(config.ports[0].security, {
    allowed: [{ mac: '52:54:00:12:34:56', ips: ['192.0.2.10', '2001:db8::10'] }],
    maxMacs: 16,
    storm: { broadcastPps: 200, multicastPps: 200, unknownUnicastPps: 500 },
  });
  assert.deepEqual(
    [config.fdb.confirmMoveMs, config.fdb.localHoldMs, config.fdb.reportsPerSecond, config.fdb.reportBurst],
    [1000, 2000, 200, 400],
  );
  assert.equal(config.networks[0].arpSuppression, true);
  assert.equal(config.networks[1].arpSuppression, false);
  assert.deepEqual(config.ports[0].qos, {
    ingress: { rateKbps: 20000, burstKb: 10000 },
    egress: { rateKbps: 100000, burstKb: 10000 },
  });
  assert.deepEqual(config.ports[1].qos, { ingress: null, egress: null });
  assert.deepEqual(config.flowExport, {
    sflow: { collectors: [{ host: '192.0.2.50', port: 6343 }], sampling: 1000, pollingS: 20, headerBytes: 128 },
    ipfix: {
      collectors: [{ host: '192.0.2.50', port: 4739 }],
      activeTimeoutS: 60,
      idleTimeoutS: 15,
      templateRefreshS: 60,
      cacheSize: 65536,
      observationDomain: 1,
    },
  });
  assert.deepEqual(
    config.ports.map((p) => [p.name, p.plug, p.persistent]),
    [
      ['tap-web1', 'create', false],
      ['tap-router', 'adopt', false],
      ['vnet3', 'attach', false],
      ['tap-db1', 'create', true],
    ],
  );
  assert.equal(config.stateFile, '/var/lib/dvs/agent-state.json');
  assert.deepEqual(config.etcd?.options.leaseTtlSeconds, 10);
  assert.equal(config.health.options.intervalMs, 1000);
});

test('health and etcd sections are checked field by field', () => {
  assert.equal(problem({ ...base, health: { intervalMs: 5 } }).field, 'health.intervalMs');
  assert.equal(problem({ ...base, health: { enabled: 'yes' } }).field, 'health.enabled');
  assert.equal(problem({ ...base, etcd: { endpoints: [] } }).field, 'etcd.endpoints');
  assert.equal(problem({ ...base, etcd: { endpoints: ['http://127.0.0.1:2379'], caFile: 3 } }).field, 'etcd.caFile');
  assert.equal(problem({ ...base, etcd: { endpoints: ['http://127.0.0.1:2379'], tls: true } }).field, 'etcd.tls');
  assert.equal(validateConfig({ ...base, health: { enabled: false } }).health.enabled, false);
});

test('an IPv6 underlay: VTEPs as "addr", "[addr]:port" or objects', () => {
  const c = validateConfig({
    host: 'h6',
    vtep: { address: '2001:db8::1' },
    networks: [{ vni: 1, peers: ['2001:db8::2', '[2001:DB8:0::3]:5000', { address: '2001:db8::4' }] }],
  });
  assert.deepEqual(c.networks[0].peers, [
    { address: '2001:db8::2', port: 4789 },
    { address: '2001:db8::3', port: 5000 },
    { address: '2001:db8::4', port: 4789 },
  ]);
});

test('labels: from the config and --label, checked against the one label syntax', async () => {
  assert.deepEqual(validateConfig(base).labels, {});
  assert.deepEqual(validateConfig({ ...base, labels: { rack: 'r1', 'example.net/zone': 'pci', n: 3 } }).labels, {
    rack: 'r1',
    'example.net/zone': 'pci',
    n: '3',
  });
  assert.equal(problem({ ...base, labels: ['rack=r1'] }).field, 'labels');
  assert.equal(problem({ ...base, labels: { 'bad key': 'x' } }).field, 'labels.bad key');
  assert.equal(problem({ ...base, labels: { rack: 'r 1' } }).field, 'labels.rack');
  const loaded = await loadConfig([
    '--host',
    'h',
    '--vtep-address',
    '198.51.100.1',
    '--label',
    'rack=r2',
    '--label',
    'zone=pci',
  ]);
  assert.deepEqual(loaded.config?.labels, { rack: 'r2', zone: 'pci' });
  await assert.rejects(
    loadConfig(['--host', 'h', '--vtep-address', '198.51.100.1', '--label', 'rack']),
    (err: ConfigError) => {
      assert.equal(err.field, '--label');
      return true;
    },
  );
});

test("ports[].security is checked by the data path's rule, the field named in the error", async () => {
  for (const [security, field] of [
    [{ allowed: [{ mac: 'nope' }] }, 'ports[0].security.allowed[0].mac'],
    [{ maxMacs: 'x' }, 'ports[0].security.maxMacs'],
    [{ storm: { everythingPps: 5 } }, 'ports[0].security.storm.everythingPps'],
    [{ colour: 'red' }, 'ports[0].security.colour'],
  ] as const) {
    const raw = {
      host: 'h',
      vtep: { address: '198.51.100.1' },
      networks: [{ vni: 100, peers: ['198.51.100.2'] }],
      ports: [{ name: 'tap0', vni: 100, security }],
    };
    assert.throws(
      () => validateConfig(raw),
      (e: unknown) => e instanceof ConfigError && e.field === field,
      JSON.stringify(security),
    );
  }
});
