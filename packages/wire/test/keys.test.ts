import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyLayout, RecordError, DEFAULT_KEY_PREFIX } from '../src/records/index.js';

const keys = new KeyLayout();

test('default prefix builds the documented keys', () => {
  assert.equal(DEFAULT_KEY_PREFIX, '/dvs/v1/');
  assert.equal(keys.host('host-a'), '/dvs/v1/hosts/host-a');
  assert.equal(keys.port('host-a', 'tap0'), '/dvs/v1/ports/host-a/tap0');
  assert.equal(keys.report(100, '02:00:00:00:00:01', 'host-a'), '/dvs/v1/reports/100/02:00:00:00:00:01/host-a');
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
  assert.deepEqual(k.parse(k.report(7, '02:00:00:00:00:0a', 'h1')), {
    kind: 'report',
    vni: 7,
    mac: '02:00:00:00:00:0a',
    host: 'h1',
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
    '/dvs/v1/unknown/x',
    '/dvs/v1/election/',
  ]) {
    assert.equal(keys.parse(key), null, key);
  }
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
    }),
    { numRuns: 1000 },
  );
});
