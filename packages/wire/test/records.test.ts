import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import {
  RecordError,
  compareVteps,
  decodeFdbEntry,
  decodeFloodList,
  decodeHost,
  decodeNetwork,
  decodePort,
  decodeReport,
  decodeTunnelStatus,
  encodeFdbEntry,
  encodeFloodList,
  encodeHost,
  encodeNetwork,
  encodePort,
  encodeReport,
  encodeTunnelStatus,
  hostVtepFor,
  networkAdmitsHost,
  networkFlowExport,
  flowExportText,
  encodeKeyspaceLayout,
  decodeKeyspaceLayout,
  parseLabel,
  hasLabel,
  type FdbEntryRecord,
  type FloodListRecord,
  type HostRecord,
  type NetworkRecord,
  type PortRecord,
  type ReportRecord,
  type TunnelStatusRecord,
} from '../src/records/index.js';

const plain = new Packr({ useRecords: false, mapsAsObjects: true });

const host: HostRecord = {
  host: 'host-a',
  vtep: { address: '192.0.2.1', port: 4789 },
  encaps: ['vxlan', 'gre-udp'],
  agentVersion: '0.1.0',
  startedAt: 1_700_000_000_000,
};
const port: PortRecord = {
  host: 'host-a',
  port: 'tap0',
  mode: 'trunk',
  bindings: [
    { vni: 100, vlan: 10 },
    { vni: 200, vlan: 20 },
  ],
  state: 'up',
  macCount: 3,
};
const report: ReportRecord = {
  vni: 100,
  mac: '02:00:00:00:00:01',
  host: 'host-a',
  port: 'tap0',
  seq: 4,
  ips: ['198.51.100.7'],
  seenAt: 1_700_000_000_123,
};
const network: NetworkRecord = {
  vni: 16777215,
  name: 'blue',
  encap: 'gre-udp',
  mtu: 1450,
  floodMode: 'head-end',
  arpSuppression: false,
  externalVteps: [{ address: '2001:db8::1', port: 4754, description: 'tor-1' }],
  description: '',
  createdAt: 1,
  updatedAt: 2,
};
const fdb: FdbEntryRecord = {
  vni: 1,
  mac: '02:00:00:00:00:02',
  host: null,
  vtep: { address: '203.0.113.9', port: 4789 },
  seq: 0,
  ips: [],
  origin: 'static',
  moves: 0,
  duplicate: false,
  reason: '',
  updatedAt: 5,
};
const flood: FloodListRecord = {
  vni: 100,
  members: [
    { address: '192.0.2.1', port: 4789, host: 'host-a' },
    { address: '203.0.113.9', port: 4789, host: null },
  ],
  updatedAt: 9,
};
const status: TunnelStatusRecord = {
  host: 'host-a',
  peers: [
    {
      vtep: { address: '192.0.2.2', port: 4789 },
      host: 'host-b',
      encap: 'vxlan',
      state: 'up',
      rtt: { lastMs: 0.2, avgMs: 0.25, p99Ms: 1.5 },
      lossPct: 0,
      lastChange: 100,
      reason: 'probe answered',
      rxPackets: 10,
      txPackets: 11,
      rxBytes: 1000,
      txBytes: 1100,
    },
    {
      vtep: { address: '203.0.113.9', port: 4789 },
      host: null,
      encap: 'vxlan',
      state: 'unmonitored',
      rtt: null,
      lossPct: 0,
      lastChange: 0,
      reason: 'external VTEP',
      rxPackets: 0,
      txPackets: 0,
      rxBytes: 0,
      txBytes: 0,
    },
  ],
  updatedAt: 100,
};

const cases = [
  { name: 'host', record: host, encode: encodeHost, decode: decodeHost },
  { name: 'port', record: port, encode: encodePort, decode: decodePort },
  { name: 'report', record: report, encode: encodeReport, decode: decodeReport },
  { name: 'network', record: network, encode: encodeNetwork, decode: decodeNetwork },
  { name: 'fdb-entry', record: fdb, encode: encodeFdbEntry, decode: decodeFdbEntry },
  { name: 'flood-list', record: flood, encode: encodeFloodList, decode: decodeFloodList },
  { name: 'tunnel-status', record: status, encode: encodeTunnelStatus, decode: decodeTunnelStatus },
] as const;

for (const c of cases) {
  test(`${c.name} record round-trips`, () => {
    const encode = c.encode as (r: object) => Buffer;
    const decode = c.decode as (b: Uint8Array) => object;
    assert.deepEqual(decode(encode(c.record)), c.record);
  });

  test(`${c.name} record: a newer major is a DVS_RECORD_VERSION error, a newer minor is accepted`, () => {
    const encode = c.encode as (r: object) => Buffer;
    const decode = c.decode as (b: Uint8Array) => unknown;
    const raw = plain.unpack(encode(c.record)) as Record<string, unknown>;
    const major = decode(plain.pack({ ...raw, v: [2, 0] }));
    assert.ok(major instanceof RecordError);
    assert.equal(major.code, 'DVS_RECORD_VERSION');
    assert.equal(major.field, 'v');
    const minor = decode(plain.pack({ ...raw, v: [1, 7], addedLater: 'x' }));
    assert.deepEqual(minor, c.record);
  });

  test(`${c.name} record: every missing field is named, no half-filled object`, () => {
    const encode = c.encode as (r: object) => Buffer;
    const decode = c.decode as (b: Uint8Array) => unknown;
    const raw = plain.unpack(encode(c.record)) as Record<string, unknown>;
    for (const field of Object.keys(raw)) {
      const copy = { ...raw };
      delete copy[field];
      const out = decode(plain.pack(copy));
      // Nullable fields (host: null) may be absent; everything else must be named.
      if (raw[field] === null) continue;
      assert.ok(out instanceof RecordError, `${c.name} without ${field} decoded`);
      assert.equal(out.code, 'DVS_RECORD_INVALID');
      assert.equal(out.field, field);
    }
  });
}

test('schema version missing or malformed is DVS_RECORD_INVALID on field v', () => {
  for (const v of [undefined, 'x', [1], [1, 0, 0], [-1, 0], [1.5, 0]]) {
    const out = decodeHost(plain.pack({ ...host, v }));
    assert.ok(out instanceof RecordError);
    assert.equal(out.code, 'DVS_RECORD_INVALID');
    assert.equal(out.field, 'v');
  }
});

test('not msgpack or not a map is DVS_RECORD_INVALID on the record', () => {
  for (const buf of [Buffer.alloc(0), Buffer.from([0xc1]), plain.pack([1, 2]), plain.pack('host')]) {
    const out = decodeReport(buf);
    assert.ok(out instanceof RecordError);
    assert.equal(out.code, 'DVS_RECORD_INVALID');
    assert.equal(out.field, '(record)');
  }
});

test('VNI range 1..16777215 is enforced', () => {
  for (const vni of [0, 16777216, -1, 1.5, '100']) {
    const out = decodeReport(encodeReport({ ...report, vni: vni as number }));
    assert.ok(out instanceof RecordError, `vni ${vni}`);
    assert.equal(out.field, 'vni');
  }
  assert.equal((decodeReport(encodeReport({ ...report, vni: 1 })) as ReportRecord).vni, 1);
});

test('bad nested fields are named by path', () => {
  const badPort = decodeHost(encodeHost({ ...host, vtep: { address: '192.0.2.1', port: 0 } }));
  assert.ok(badPort instanceof RecordError);
  assert.equal(badPort.field, 'vtep.port');
  const badAddr = decodeHost(encodeHost({ ...host, vtep: { address: '192.0.2.256', port: 1 } }));
  assert.ok(badAddr instanceof RecordError);
  assert.equal(badAddr.field, 'vtep.address');
  const badState = decodeTunnelStatus(
    encodeTunnelStatus({ ...status, peers: [{ ...status.peers[0]!, state: 'sideways' as 'up' }] }),
  );
  assert.ok(badState instanceof RecordError);
  assert.equal(badState.field, 'peers.0.state');
  const badEncap = decodeNetwork(encodeNetwork({ ...network, encap: 'geneve' as 'vxlan' }));
  assert.ok(badEncap instanceof RecordError);
  assert.equal(badEncap.field, 'encap');
  const badMac = decodeFdbEntry(encodeFdbEntry({ ...fdb, mac: '02:00:00:00:00:0G' }));
  assert.ok(badMac instanceof RecordError);
  assert.equal(badMac.field, 'mac');
  const upperMac = decodeFdbEntry(encodeFdbEntry({ ...fdb, mac: '02:00:00:00:00:0A' }));
  assert.ok(upperMac instanceof RecordError, 'record MACs are canonical lowercase');
});

test('access port needs exactly one binding, trunk bindings need a VLAN', () => {
  const access = decodePort(encodePort({ ...port, mode: 'access', bindings: [{ vni: 1, vlan: null }] }));
  assert.deepEqual(access, { ...port, mode: 'access', bindings: [{ vni: 1, vlan: null }] });
  const twoAccess = decodePort(encodePort({ ...port, mode: 'access' }));
  assert.ok(twoAccess instanceof RecordError);
  assert.equal(twoAccess.field, 'bindings');
  const noVlan = decodePort(encodePort({ ...port, bindings: [{ vni: 1, vlan: null }] }));
  assert.ok(noVlan instanceof RecordError);
  assert.equal(noVlan.field, 'bindings.0.vlan');
});

test('host record 1.1: per-encap ports, defaults for records without them', () => {
  const withPorts: HostRecord = { ...host, encapPorts: { 'gre-udp': 14754 } };
  const decoded = decodeHost(encodeHost(withPorts));
  assert.deepEqual(decoded, withPorts);
  assert.deepEqual(hostVtepFor(withPorts, 'gre-udp'), { address: '192.0.2.1', port: 14754 });
  assert.deepEqual(hostVtepFor(host, 'gre-udp'), { address: '192.0.2.1', port: 4754 });
  assert.deepEqual(hostVtepFor(host, 'vxlan'), { address: '192.0.2.1', port: 4789 });
  const bad = decodeHost(encodeHost({ ...host, encapPorts: { vxlan: 0 } }));
  assert.ok(bad instanceof RecordError);
  assert.equal(bad.field, 'encapPorts.vxlan');
});

test('host record 1.2: labels, checked key by key', () => {
  const labelled: HostRecord = { ...host, labels: { rack: 'r1', 'example.net/tenant': 'blue', empty: '' } };
  assert.deepEqual(decodeHost(encodeHost(labelled)), labelled);
  const badKey = decodeHost(encodeHost({ ...host, labels: { 'bad key': 'x' } }));
  assert.ok(badKey instanceof RecordError);
  assert.equal(badKey.field, 'labels.bad key');
  const badValue = decodeHost(encodeHost({ ...host, labels: { rack: 'r 1' } }));
  assert.ok(badValue instanceof RecordError);
  assert.equal(badValue.field, 'labels.rack');
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
  const tooMany = decodeHost(encodeHost({ ...host, labels: many }));
  assert.ok(tooMany instanceof RecordError);
  assert.equal(tooMany.field, 'labels');
});

test('host record 1.3: the probe port of a kernel-datapath host round-trips; out of range names the field', () => {
  const kernelHost: HostRecord = { ...host, probePort: 4793 };
  assert.deepEqual(decodeHost(encodeHost(kernelHost)), kernelHost);
  assert.equal('probePort' in (decodeHost(encodeHost(host)) as HostRecord), false, 'absent stays absent');
  const bad = decodeHost(encodeHost({ ...host, probePort: 70000 }));
  assert.ok(bad instanceof RecordError);
  assert.equal(bad.field, 'probePort');
});

test('label text: key=value, nothing else', () => {
  assert.deepEqual(parseLabel('rack=r1'), { key: 'rack', value: 'r1' });
  assert.deepEqual(parseLabel('zone='), { key: 'zone', value: '' });
  for (const bad of ['rack', '=r1', 'ra ck=r1', 'rack=r 1', 'rack=-r1', `${'k'.repeat(64)}=v`])
    assert.equal(parseLabel(bad), null, bad);
  assert.equal(hasLabel({ rack: 'r1' }, 'rack=r1'), true);
  assert.equal(hasLabel({ rack: 'r1' }, 'rack=r2'), false);
  assert.equal(hasLabel(undefined, 'rack=r1'), false);
  assert.equal(hasLabel({ constructor: 'x' }, 'toString='), false);
});

test('network record 1.1: allowed hosts and labels decide membership', () => {
  const restricted: NetworkRecord = { ...network, allowedHosts: ['host-a'], allowedLabels: ['rack=r1'] };
  assert.deepEqual(decodeNetwork(encodeNetwork(restricted)), restricted);
  assert.equal(networkAdmitsHost(network, { host: 'anyone' }), true, 'no list: every host');
  assert.equal(networkAdmitsHost({ ...network, allowedHosts: [], allowedLabels: [] }, { host: 'x' }), true);
  assert.equal(networkAdmitsHost(restricted, { host: 'host-a' }), true);
  assert.equal(networkAdmitsHost(restricted, { host: 'host-b', labels: { rack: 'r1' } }), true);
  assert.equal(networkAdmitsHost(restricted, { host: 'host-b', labels: { rack: 'r2' } }), false);
  assert.equal(networkAdmitsHost(restricted, { host: 'host-b' }), false);
  const badHost = decodeNetwork(encodeNetwork({ ...network, allowedHosts: ['a/b'] }));
  assert.ok(badHost instanceof RecordError);
  assert.equal(badHost.field, 'allowedHosts.0');
  const badLabel = decodeNetwork(encodeNetwork({ ...network, allowedLabels: ['rack'] }));
  assert.ok(badLabel instanceof RecordError);
  assert.equal(badLabel.field, 'allowedLabels.0');
});

test('keyspace layout record round-trips and is checked', () => {
  const record = { layout: 2, writtenBy: 'dvs-controller ctl-1', writtenAt: 5 };
  assert.deepEqual(decodeKeyspaceLayout(encodeKeyspaceLayout(record)), record);
  const bad = decodeKeyspaceLayout(encodeKeyspaceLayout({ ...record, layout: 0 }));
  assert.ok(bad instanceof RecordError);
  assert.equal(bad.field, 'layout');
});

test('VTEP order: IPv4 numerically, then port, IPv4 before IPv6', () => {
  const sorted = [
    { address: '2001:db8::1', port: 1 },
    { address: '192.0.2.10', port: 4789 },
    { address: '192.0.2.9', port: 4790 },
    { address: '192.0.2.9', port: 4789 },
  ].sort(compareVteps);
  assert.deepEqual(
    sorted.map((v) => `${v.address}:${v.port}`),
    ['192.0.2.9:4789', '192.0.2.9:4790', '192.0.2.10:4789', '2001:db8::1:1'],
  );
});

test('port record 1.1: kind, device kind, since and the state gone; a 1.0 record still decodes', () => {
  const attached: PortRecord = {
    ...port,
    mode: 'access',
    bindings: [{ vni: 100, vlan: null }],
    state: 'gone',
    kind: 'attach',
    deviceKind: 'veth',
    since: 1_700_000_000_000,
  };
  assert.deepEqual(decodePort(encodePort(attached)), attached);
  const old = plain.unpack(encodePort(port)) as Record<string, unknown>;
  assert.deepEqual(decodePort(plain.pack({ ...old, v: [1, 0] })), port, 'no kind, deviceKind, since');
  for (const [field, value] of [
    ['kind', 'borrowed'],
    ['state', 'sleeping'],
    ['since', -1],
    ['deviceKind', 7],
  ] as const) {
    const out = decodePort(plain.pack({ ...plain.unpack(encodePort(attached)), [field]: value }));
    assert.ok(out instanceof RecordError, `${field} ${value}`);
    assert.equal(out.field, field);
  }
});

test('tunnel-status 1.1: learn conflicts round-trip; a 1.0 record without them still decodes; a bad one names the field', () => {
  const withConflicts: TunnelStatusRecord = {
    ...status,
    conflicts: [
      {
        vni: 100,
        mac: '52:54:00:00:0c:01',
        claimedBy: '198.51.100.13:4789',
        controllerVtep: '198.51.100.12:4789',
        outcome: 'reverted',
        count: 2,
        lastAt: 1_700_000_000_000,
      },
    ],
  };
  assert.deepEqual(decodeTunnelStatus(encodeTunnelStatus(withConflicts)), withConflicts);
  const raw = plain.unpack(encodeTunnelStatus(status)) as Record<string, unknown>;
  assert.deepEqual(decodeTunnelStatus(plain.pack({ ...raw, v: [1, 0] })), status);
  const bad = plain.unpack(encodeTunnelStatus(withConflicts)) as Record<string, unknown>;
  (bad.conflicts as Array<Record<string, unknown>>)[0]!.outcome = 'stolen';
  const err = decodeTunnelStatus(plain.pack(bad));
  assert.ok(err instanceof RecordError);
  assert.equal(err.field, 'conflicts.0.outcome');
});

test('network record 1.2: datapath round-trips; a 1.1 record without it still decodes (auto); a bad one names the field', () => {
  for (const datapath of ['kernel', 'userspace', 'auto'] as const) {
    const r: NetworkRecord = { ...network, datapath };
    assert.deepEqual(decodeNetwork(encodeNetwork(r)), r);
  }
  const old = plain.unpack(encodeNetwork(network)) as Record<string, unknown>;
  const decoded = decodeNetwork(plain.pack({ ...old, v: [1, 1] }));
  assert.deepEqual(decoded, network, 'a 1.1 record has no datapath');
  const bad = decodeNetwork(plain.pack({ ...old, datapath: 'fast' }));
  assert.ok(bad instanceof RecordError);
  assert.equal(bad.field, 'datapath');
});

test('host record 1.3: the VXLAN owner round-trips; a 1.2 record without it still decodes; a bad one names the field', () => {
  const withOwner: HostRecord = { ...host, datapath: { provider: 'kernel', reason: 'agent datapath: kernel' } };
  assert.deepEqual(decodeHost(encodeHost(withOwner)), withOwner);
  const old = plain.unpack(encodeHost(host)) as Record<string, unknown>;
  assert.deepEqual(decodeHost(plain.pack({ ...old, v: [1, 2] })), host);
  const bad = decodeHost(plain.pack({ ...old, datapath: { provider: 'ovs', reason: '' } }));
  assert.ok(bad instanceof RecordError);
  assert.equal(bad.field, 'datapath.provider');
});

test('network record 1.3: flowExport round-trips; a 1.2 record without it decodes as exported by both; a bad one names the field', () => {
  for (const flowExport of [
    { sflow: false, ipfix: false },
    { sflow: false, ipfix: true },
    { sflow: true, ipfix: false },
  ]) {
    const r: NetworkRecord = { ...network, flowExport };
    assert.deepEqual(decodeNetwork(encodeNetwork(r)), r);
  }
  const old = plain.unpack(encodeNetwork(network)) as Record<string, unknown>;
  const decoded = decodeNetwork(plain.pack({ ...old, v: [1, 2] })) as NetworkRecord;
  assert.deepEqual(decoded, network, 'a 1.2 record has no flowExport');
  assert.deepEqual(networkFlowExport(decoded), { sflow: true, ipfix: true }, 'absent: exported by both');
  assert.equal(flowExportText(networkFlowExport(decoded)), 'sflow,ipfix');
  assert.equal(flowExportText({ sflow: false, ipfix: false }), 'none');
  const cases: [unknown, string][] = [
    ['off', 'flowExport'],
    [{ sflow: 'no', ipfix: true }, 'flowExport.sflow'],
    [{ sflow: false }, 'flowExport.ipfix'],
  ];
  for (const [flowExport, field] of cases) {
    const bad = decodeNetwork(plain.pack({ ...old, flowExport }));
    assert.ok(bad instanceof RecordError, JSON.stringify(flowExport));
    assert.equal(bad.field, field);
  }
});
