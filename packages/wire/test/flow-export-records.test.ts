// The cluster's flow export records and the settings rules they share with
// the agent: round trips, keys, collector syntax, limits, resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlowExportError,
  KeyLayout,
  checkSflowSettings,
  collectorText,
  decodeIpfixRecord,
  decodeSflowRecord,
  encodeIpfixRecord,
  encodeSflowRecord,
  isRecordError,
  parseCollector,
  resolveCollectors,
  type IpfixRecord,
  type SflowRecord,
} from '../src/index.js';

const sflow: SflowRecord = {
  collectors: [
    { host: '192.0.2.50', port: 6343 },
    { host: 'collector.example', port: 9999 },
  ],
  sampling: 512,
  pollingS: 10,
  headerBytes: 128,
  updatedAt: 5,
};

const ipfix: IpfixRecord = {
  collectors: [],
  activeTimeoutS: 60,
  idleTimeoutS: 15,
  templateRefreshS: 60,
  cacheSize: 4096,
  observationDomain: 7,
  updatedAt: 6,
};

test('sFlow and IPFIX records round-trip; a record breaking the shared rules does not decode, naming the field', () => {
  assert.deepEqual(decodeSflowRecord(encodeSflowRecord(sflow)), sflow);
  assert.deepEqual(decodeIpfixRecord(encodeIpfixRecord(ipfix)), ipfix);
  const zero = decodeSflowRecord(encodeSflowRecord({ ...sflow, sampling: 0 }));
  assert.ok(isRecordError(zero) && zero.field === 'sampling', String(zero));
  const none = decodeSflowRecord(encodeSflowRecord({ ...sflow, collectors: [] }));
  assert.ok(isRecordError(none) && none.field === 'collectors', String(none));
  const idle = decodeIpfixRecord(encodeIpfixRecord({ ...ipfix, idleTimeoutS: 0 }));
  assert.ok(isRecordError(idle) && idle.field === 'idleTimeoutS', String(idle));
});

test('flow export keys parse back, inside the agents read range, where their base follower starts', () => {
  const keys = new KeyLayout();
  for (const exporter of ['sflow', 'ipfix'] as const) {
    const k = keys.flowExport(exporter);
    assert.deepEqual(keys.parse(k), { kind: 'flow-export', exporter });
    assert.ok(k >= keys.section('fdb') && k < keys.prefix + 'networks0', k);
    assert.ok(k >= keys.section('flow-export') && k > keys.section('flood') + '\uffff', k);
  }
  // The base follower's range [flow-export/, networks0) takes no FDB entry or flood list.
  assert.ok(keys.fdb(100, '02:00:00:00:00:01') < keys.section('flow-export'));
  assert.ok(keys.flood(16777215) < keys.section('flow-export'));
  assert.equal(keys.parse(keys.prefix + 'flow-export/netflow'), null);
});

test('collectors: host[:port], [IPv6]:port; bad ones name the field', () => {
  assert.deepEqual(parseCollector('192.0.2.50', 6343, 'f'), { host: '192.0.2.50', port: 6343 });
  assert.deepEqual(parseCollector('c.example:99', 6343, 'f'), { host: 'c.example', port: 99 });
  assert.deepEqual(parseCollector('[2001:db8::1]:6344', 6343, 'f'), { host: '2001:db8::1', port: 6344 });
  assert.deepEqual(parseCollector('2001:db8::1', 6343, 'f'), { host: '2001:db8::1', port: 6343 });
  assert.equal(collectorText({ host: '2001:db8::1', port: 1 }), '[2001:db8::1]:1');
  for (const bad of ['', 'a b', 'host:0', 'host:70000', '[nope]:1', 'h:1:2x'])
    assert.throws(
      () => parseCollector(bad, 6343, 'collectors[3]'),
      (e: unknown) => e instanceof FlowExportError && e.field === 'collectors[3]' && e.code === 'DVS_BAD_ARGUMENT',
      bad,
    );
  assert.throws(
    () => checkSflowSettings({ ...sflow, sampling: 0 }, 'sflow'),
    (e: unknown) => e instanceof FlowExportError && e.field === 'sflow.sampling' && /1\.\.16777216/.test(e.message),
  );
});

test('resolution: literals need no lookup; a name that does not resolve is DVS_COLLECTOR_UNRESOLVED naming it', async () => {
  const asked: string[] = [];
  const lookup = async (host: string): Promise<{ address: string; family: number }> => {
    asked.push(host);
    if (host === 'collector.example') return { address: '192.0.2.9', family: 4 };
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };
  const ok = await resolveCollectors(sflow.collectors, 'collectors', lookup);
  assert.deepEqual(
    ok.map((c) => c.address),
    ['192.0.2.50', '192.0.2.9'],
  );
  assert.deepEqual(asked, ['collector.example']);
  await assert.rejects(
    resolveCollectors([...sflow.collectors, { host: 'nowhere.invalid', port: 1 }], 'collectors', lookup),
    (e: unknown) =>
      e instanceof FlowExportError &&
      e.code === 'DVS_COLLECTOR_UNRESOLVED' &&
      e.field === 'collectors[2]' &&
      /nowhere\.invalid.*ENOTFOUND/.test(e.message),
  );
});
