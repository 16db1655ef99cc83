import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeFdbEntry,
  encodeFloodList,
  encodeNetwork,
  encodeSflowRecord,
  decodeSflowRecord,
  isRecordError,
  KeyLayout,
  type FdbEntryRecord,
  type NetworkRecord,
  type SflowRecord,
} from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import { RESET_STEP, TableState, reportLost, seqToReport } from '../src/etcd-sync/index.js';

const keys = new KeyLayout();
const self = { host: 'host-a', vtep: { address: '192.0.2.1', port: 4789 } };
let rev = 0;

function network(vni: number, extra: Partial<NetworkRecord> = {}): { key: string; value: Buffer; modRevision: number } {
  const record: NetworkRecord = sampleNetwork(vni, { name: `n${vni}`, ...extra });
  return { key: keys.network(vni), value: encodeNetwork(record), modRevision: ++rev };
}

function fdb(
  vni: number,
  mac: string,
  host: string | null,
  address: string,
  seq = 0,
  origin: 'report' | 'static' = 'report',
) {
  const record: FdbEntryRecord = {
    vni,
    mac,
    host,
    vtep: { address, port: 4789 },
    seq,
    ips: [],
    origin,
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 0,
  };
  return { key: keys.fdb(vni, mac), value: encodeFdbEntry(record), modRevision: ++rev };
}

function flood(vni: number, members: [string, string | null][]) {
  return {
    key: keys.flood(vni),
    value: encodeFloodList({
      vni,
      members: members.map(([address, host]) => ({ address, port: 4789, host })),
      updatedAt: 0,
    }),
    modRevision: ++rev,
  };
}

test('first load: network, then flood and peers without this host, then remote FDB entries', () => {
  const t = new TableState(keys, self);
  const changes = t.reset(
    [
      fdb(100, '02:00:00:00:00:02', 'host-b', '192.0.2.2', 3),
      fdb(100, '02:00:00:00:00:01', 'host-a', '192.0.2.1'), // our own MAC: not handed over
      flood(100, [
        ['192.0.2.1', 'host-a'],
        ['192.0.2.2', 'host-b'],
        ['203.0.113.9', null],
      ]),
      network(100),
    ],
    rev,
  );
  assert.deepEqual(changes, [
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450, arpSuppression: false } },
    {
      kind: 'flood:set',
      vni: 100,
      vteps: [
        { address: '192.0.2.2', port: 4789 },
        { address: '203.0.113.9', port: 4789 },
      ],
    },
    {
      kind: 'peers:set',
      vni: 100,
      vteps: [
        { address: '192.0.2.2', port: 4789 },
        { address: '203.0.113.9', port: 4789 },
      ],
    },
    { kind: 'fdb:set', vni: 100, mac: 0x020000000002, vtep: { address: '192.0.2.2', port: 4789 }, seq: 3 },
  ]);
});

test('incremental: an entry moving here is deleted from the data path; a static entry is marked static', () => {
  const t = new TableState(keys, self);
  t.reset([network(100), fdb(100, '02:00:00:00:00:02', 'host-b', '192.0.2.2')], rev);
  // An FDB change never recomputes a list: the data path accepts an entry's VTEP as a source itself.
  assert.deepEqual(t.put(fdb(100, '02:00:00:00:00:02', 'host-a', '192.0.2.1', 1)), [
    { kind: 'fdb:del', vni: 100, mac: 0x020000000002 },
  ]);
  const staticChanges = t.put(fdb(100, '02:00:00:00:00:0e', null, '203.0.113.9', 0, 'static'));
  assert.deepEqual(staticChanges.at(-1), {
    kind: 'fdb:set',
    vni: 100,
    mac: 0x02000000000e,
    vtep: { address: '203.0.113.9', port: 4789 },
    seq: 0,
    static: true,
  });
});

test('unchanged peers and flood lists are not re-applied; flood mode none empties the flood list only', () => {
  const t = new TableState(keys, self);
  t.reset([network(100), flood(100, [['192.0.2.2', 'host-b']])], rev);
  assert.deepEqual(t.put(flood(100, [['192.0.2.2', 'host-b']])), []);
  assert.deepEqual(t.put(network(100, { floodMode: 'none' })), [
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450, arpSuppression: false } },
    { kind: 'flood:set', vni: 100, vteps: [] },
  ]);
});

test('entries that arrive before their network are replayed when it appears; network removal comes last', () => {
  const t = new TableState(keys, self);
  assert.deepEqual(t.put(fdb(200, '02:00:00:00:00:05', 'host-c', '192.0.2.3')), []);
  const changes = t.put(network(200));
  assert.deepEqual(
    changes.map((c) => c.kind),
    ['network:set', 'flood:set', 'peers:set', 'fdb:set'],
  );
  const gone = t.delete(keys.network(200), ++rev);
  assert.deepEqual(gone, [{ kind: 'network:del', vni: 200 }]);
});

test('a resync applies only the difference and keeps what did not change', () => {
  const t = new TableState(keys, self);
  const net = network(100);
  const keep = fdb(100, '02:00:00:00:00:02', 'host-b', '192.0.2.2');
  const drop = fdb(100, '02:00:00:00:00:03', 'host-c', '192.0.2.3');
  t.reset([net, keep, drop], rev);
  const added = fdb(100, '02:00:00:00:00:04', 'host-b', '192.0.2.2');
  const changes = t.reset([net, keep, added], ++rev);
  assert.deepEqual(changes, [
    { kind: 'fdb:set', vni: 100, mac: 0x020000000004, vtep: { address: '192.0.2.2', port: 4789 }, seq: 0 },
    { kind: 'fdb:del', vni: 100, mac: 0x020000000003 },
  ]);
});

test('a reset of one VNI touches only that VNI; dropping a VNI removes its entries and empties its lists', () => {
  const t = new TableState(keys, self);
  t.reset([network(100), network(200)], rev, { kind: 'base' });
  t.reset([fdb(200, '02:00:00:00:00:07', 'host-c', '192.0.2.3')], rev, { kind: 'fdb', vni: 200 });
  t.reset([flood(200, [['192.0.2.3', 'host-c']])], rev, { kind: 'flood', vni: 200 });
  const keep = fdb(100, '02:00:00:00:00:02', 'host-b', '192.0.2.2');
  const first = [
    ...t.reset([flood(100, [['192.0.2.2', 'host-b']])], rev, { kind: 'flood', vni: 100 }),
    ...t.reset([keep], rev, { kind: 'fdb', vni: 100 }),
  ];
  assert.deepEqual(
    first.map((c) => c.kind),
    ['flood:set', 'peers:set', 'fdb:set'],
  );
  // VNI 100's FDB again without its entry: only that entry goes; its flood list, VNI 200 and the networks stay.
  assert.deepEqual(t.reset([], ++rev, { kind: 'fdb', vni: 100 }), [{ kind: 'fdb:del', vni: 100, mac: 0x020000000002 }]);
  assert.ok(t.flood.has(100));
  assert.ok(t.entry(200, '02:00:00:00:00:07'));
  assert.equal(t.networks.size, 2);
  // In steps of at most RESET_STEP records: a large VNI comes out in pieces.
  const big = Array.from({ length: RESET_STEP * 2 + 1 }, (_, i) =>
    fdb(
      300,
      `02:00:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      'host-b',
      '192.0.2.2',
    ),
  );
  t.reset([network(100), network(200), network(300)], ++rev, { kind: 'base' });
  const steps = [...t.resetSteps(big, ++rev, { kind: 'fdb', vni: 300 })];
  assert.ok(steps.length >= 3, `${steps.length} steps`);
  assert.ok(steps.every((s) => s.length <= RESET_STEP));
  assert.equal(steps.flat().filter((c) => c.kind === 'fdb:set').length, big.length);
  // Stop following VNI 200: its entry goes, its flood list and peers are emptied.
  assert.deepEqual([...t.dropSteps({ kind: 'fdb', vni: 200 }), ...t.dropSteps({ kind: 'flood', vni: 200 })].flat(), [
    { kind: 'fdb:del', vni: 200, mac: 0x020000000007 },
    { kind: 'flood:set', vni: 200, vteps: [] },
    { kind: 'peers:set', vni: 200, vteps: [] },
  ]);
  assert.equal(t.entry(200, '02:00:00:00:00:07'), undefined);
});

test('records that do not decode are ignored and remembered, never applied half', () => {
  const t = new TableState(keys, self);
  t.reset([network(100)], rev);
  const changes = t.put({ key: keys.fdb(100, '02:00:00:00:00:09'), value: Buffer.from([0xc1]), modRevision: ++rev });
  assert.deepEqual(changes, []);
  assert.equal(t.invalid.get(keys.fdb(100, '02:00:00:00:00:09'))?.code, 'DVS_RECORD_INVALID');
});

test('mobility: seq to report and when a report lost', () => {
  const at = (host: string, seq: number): FdbEntryRecord => ({
    vni: 1,
    mac: '02:00:00:00:00:01',
    host,
    vtep: { address: '192.0.2.9', port: 4789 },
    seq,
    ips: [],
    origin: 'report',
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 0,
  });
  assert.equal(seqToReport(0, undefined, 'host-a'), 0);
  assert.equal(seqToReport(0, at('host-b', 4), 'host-a'), 5, 'moved here: table seq + 1');
  assert.equal(seqToReport(0, at('host-a', 4), 'host-a'), 4, 'already here: keep the seq');
  assert.equal(seqToReport(3, at('host-b', 4), 'host-a'), 5, 'above a data path that lags the table');
  assert.equal(
    seqToReport(7, at('host-b', 4), 'host-a'),
    5,
    'the data path counted moves the table never saw: table + 1',
  );
  assert.equal(seqToReport(7, at('host-a', 4), 'host-a'), 5, 'here already, moved meanwhile: table + 1');
  assert.equal(seqToReport(7, undefined, 'host-a'), 1, 'no entry: at most 1 (what the controller accepts)');
  assert.equal(seqToReport(1, undefined, 'host-a'), 1);
  assert.equal(seqToReport(0, at('host-b', 0xffffffff), 'host-a'), 0xffffffff, 'never past MAX_SEQ');
  // host-b's VTEP is 192.0.2.9.
  assert.equal(reportLost(4, at('host-b', 4), 'host-a', '192.0.2.10'), true, 'tie lost to a lower VTEP');
  assert.equal(reportLost(4, at('host-b', 4), 'host-a', '192.0.2.8'), false, 'tie we win: keep the report');
  assert.equal(reportLost(4, at('host-b', 5), 'host-a', '192.0.2.8'), true, 'higher seq elsewhere');
  assert.equal(reportLost(5, at('host-b', 4), 'host-a', '192.0.2.10'), false);
  assert.equal(reportLost(4, at('host-a', 4), 'host-a', '192.0.2.10'), false);
  assert.equal(reportLost(4, undefined, 'host-a', '192.0.2.10'), false);
});

test("the cluster's flow export: cached with the networks, kept by a base resync that has it, gone when it has not", () => {
  const t = new TableState(keys, self);
  const sflow = {
    key: keys.flowExport('sflow'),
    value: encodeSflowRecord({
      collectors: [{ host: '192.0.2.50', port: 6343 }],
      sampling: 100,
      pollingS: 20,
      headerBytes: 128,
      updatedAt: 1,
    }),
    modRevision: ++rev,
  };
  t.reset([network(100), sflow], rev, { kind: 'base' });
  assert.equal((t.flowExport.get('sflow')?.record as { sampling: number }).sampling, 100);
  // A resync of the base scope that still has it keeps it, unchanged.
  t.reset([network(100), sflow], rev, { kind: 'base' });
  assert.equal(t.flowExport.get('sflow')?.modRevision, sflow.modRevision);
  // One that has it no more drops it.
  t.reset([network(100)], ++rev, { kind: 'base' });
  assert.equal(t.flowExport.has('sflow'), false);
  // A record that breaks the shared rules is remembered as invalid, never cached.
  const bad = { ...sflow, value: encodeSflowRecord({ ...decodeSflow(sflow.value), sampling: 0 }), modRevision: ++rev };
  t.put(bad);
  assert.equal(t.flowExport.has('sflow'), false);
  assert.equal(t.invalid.get(bad.key)?.field, 'sampling');
});

function decodeSflow(buf: Buffer): SflowRecord {
  const r = decodeSflowRecord(buf);
  assert.ok(!isRecordError(r));
  return r;
}
