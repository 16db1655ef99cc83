import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyLayout, RecordError, DEFAULT_KEY_PREFIX, KEY_LAYOUT_VERSION } from '../src/records/index.js';

const keys = new KeyLayout();

test('default prefix builds the documented keys', () => {
  assert.equal(DEFAULT_KEY_PREFIX, '/dvs/v1/');
  assert.equal(keys.host('host-a'), '/dvs/v1/hosts/host-a');
  assert.equal(keys.port('host-a', 'tap0'), '/dvs/v1/ports/host-a/tap0');
  assert.equal(keys.report('host-a', 100, '02:00:00:00:00:01'), '/dvs/v1/reports/host-a/100/02:00:00:00:00:01');
  assert.equal(keys.reportsOf('host-a'), '/dvs/v1/reports/host-a/');
  assert.equal(keys.layout, '/dvs/v1/layout');
  assert.equal(KEY_LAYOUT_VERSION, 2);
  assert.equal(keys.network(100), '/dvs/v1/networks/100');
  assert.equal(keys.fdb(100, '02:00:00:00:00:01'), '/dvs/v1/fdb/100/02:00:00:00:00:01');
  assert.equal(keys.flood(100), '/dvs/v1/flood/100');
  assert.equal(keys.status('host-a'), '/dvs/v1/status/host-a');
  assert.equal(keys.election(), '/dvs/v1/election/controller/');
  assert.equal(keys.section('fdb'), '/dvs/v1/fdb/');
  assert.equal(keys.fdbOf(100), '/dvs/v1/fdb/100/');
});

test('every built key parses back to its parts', () => {
  const k = new KeyLayout('/lab-1/');
  assert.deepEqual(k.parse(k.host('h1')), { kind: 'host', host: 'h1' });
  assert.deepEqual(k.parse(k.port('h1', 'tap-vm1')), { kind: 'port', host: 'h1', port: 'tap-vm1' });
  assert.deepEqual(k.parse(k.report('h1', 7, '02:00:00:00:00:0a')), {
    kind: 'report',
    host: 'h1',
    vni: 7,
    mac: '02:00:00:00:00:0a',
  });
  assert.deepEqual(k.parse(k.network(16777215)), { kind: 'network', vni: 16777215 });
  assert.deepEqual(k.parse(k.fdb(1, 'ff:ff:ff:ff:ff:ff')), { kind: 'fdb', vni: 1, mac: 'ff:ff:ff:ff:ff:ff' });
  assert.deepEqual(k.parse(k.flood(9)), { kind: 'flood', vni: 9 });
  assert.deepEqual(k.parse(k.status('h1')), { kind: 'status', host: 'h1' });
  assert.deepEqual(k.parse(k.election() + '694d7f'), { kind: 'election', name: 'controller', rest: '694d7f' });
  assert.deepEqual(k.parseFdb(k.fdb(1, 'ff:ff:ff:ff:ff:ff')), { vni: 1, mac: 'ff:ff:ff:ff:ff:ff' });
  assert.equal(k.parseFdb(k.flood(1)), null);
});

test('foreign and malformed keys parse to null', () => {
  for (const key of [
    '/other/v1/hosts/a',
    '/dvs/v1/',
    '/dvs/v1/hosts/',
    '/dvs/v1/hosts/a/b',
    '/dvs/v1/networks/0',
    '/dvs/v1/networks/16777216',
    '/dvs/v1/networks/0100',
    '/dvs/v1/networks/abc',
    '/dvs/v1/fdb/100/02:00:00:00:00:0A',
    '/dvs/v1/fdb/100/02:00:00:00:00',
    '/dvs/v1/fdb/100',
    '/dvs/v1/reports/100/02:00:00:00:00:01',
    '/dvs/v1/reports/host-a/100',
    '/dvs/v1/reports/100/02:00:00:00:00:01/host-a',
    '/dvs/v1/layout',
    '/dvs/v1/unknown/x',
    '/dvs/v1/election/',
  ]) {
    assert.equal(keys.parse(key), null, key);
  }
});

test('every host writes under its own name: its keys start with a prefix no other host shares', () => {
  const own = (h: string) => [keys.host(h), keys.portsOf(h), keys.reportsOf(h), keys.status(h)];
  const a = keys.report('h1', 100, '02:00:00:00:00:01');
  assert.ok(a.startsWith(keys.reportsOf('h1')));
  // h1's prefixes never cover h10's keys (a grant on reports/h1/ is not one on reports/h10/).
  for (const key of [keys.report('h10', 100, '02:00:00:00:00:01'), keys.port('h10', 'tap0'), keys.status('h10')]) {
    assert.ok(!own('h1').some((p) => key.startsWith(p) && p !== keys.host('h1') && p !== keys.status('h1')), key);
  }
  assert.notEqual(keys.host('h1'), keys.host('h10'));
});

test('layout-1 report keys are recognised, never as layout-2 keys', () => {
  const legacy = '/dvs/v1/reports/100/02:00:00:00:00:01/host-a';
  assert.deepEqual(keys.parseLegacyReport(legacy), { host: 'host-a', vni: 100, mac: '02:00:00:00:00:01' });
  assert.equal(keys.parse(legacy), null);
  // A numeric host id is still told apart: the MAC's colons decide.
  const v2 = keys.report('100', 200, '02:00:00:00:00:01');
  assert.equal(keys.parseLegacyReport(v2), null);
  assert.deepEqual(keys.parseReport(v2), { host: '100', vni: 200, mac: '02:00:00:00:00:01' });
  for (const key of [
    '/dvs/v1/reports/100/02:00:00:00:00:01',
    '/dvs/v1/reports/0/02:00:00:00:00:01/h',
    '/x/reports/1/02:00:00:00:00:01/h',
  ])
    assert.equal(keys.parseLegacyReport(key), null, key);
});

test('builders refuse components that would make an unparseable key', () => {
  assert.throws(() => keys.host('a/b'), RecordError);
  assert.throws(() => keys.network(0), RecordError);
  assert.throws(() => keys.fdb(1, '02:00:00:00:00:0A'), RecordError);
  assert.throws(() => keys.port('h', 'a/b'), RecordError);
  assert.throws(() => new KeyLayout('/no-slash'), RecordError);
});

test('parse never throws on arbitrary keys', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (tail) => {
      keys.parse('/dvs/v1/' + tail);
      keys.parse(tail);
      keys.parseLegacyReport('/dvs/v1/reports/' + tail);
    }),
    { numRuns: 1000 },
  );
});
