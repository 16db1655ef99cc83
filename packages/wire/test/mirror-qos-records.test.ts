// The mirror and port-QoS records: round trips, keys, the shared rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KeyLayout,
  decodeMirror,
  decodePortQos,
  encodeMirror,
  encodePortQos,
  isRecordError,
  mirrorConfigProblem,
  policerSpecProblem,
  type MirrorRecord,
  type PortQosRecord,
} from '../src/index.js';

const mirror: MirrorRecord = {
  name: 'watch-vm1',
  sourcePorts: [{ host: 'host-a', port: 'tap-vm1' }],
  sourceVnis: [100],
  direction: 'both',
  srcMac: '02:00:00:00:00:01',
  sampleEvery: 10,
  output: { host: 'host-b', port: 'tap-analyser' },
  vni: 9999,
  encap: 'vxlan',
  description: '',
  createdAt: 1,
  updatedAt: 2,
};

test('mirror and port QoS records round-trip; a bad field is named', () => {
  assert.deepEqual(decodeMirror(encodeMirror(mirror)), mirror);
  const bad = decodeMirror(encodeMirror({ ...mirror, sampleEvery: 0 }));
  assert.ok(isRecordError(bad) && bad.field === 'sampleEvery');
  const qos: PortQosRecord = {
    host: 'host-a',
    port: 'tap-vm1',
    ingress: { rateKbps: 20000, burstKb: 2000 },
    egress: null,
    updatedAt: 3,
  };
  assert.deepEqual(decodePortQos(encodePortQos(qos)), qos);
  const zero = decodePortQos(encodePortQos({ ...qos, ingress: { rateKbps: 0, burstKb: 2000 } }));
  assert.ok(isRecordError(zero) && zero.field === 'ingress.rateKbps');
});

test('mirror and port QoS keys parse back, inside the agents read range [fdb/, networks0)', () => {
  const keys = new KeyLayout();
  const m = keys.mirror('watch-vm1');
  const q = keys.portQos('host-a', 'tap-vm1');
  assert.deepEqual(keys.parse(m), { kind: 'mirror', name: 'watch-vm1' });
  assert.deepEqual(keys.parse(q), { kind: 'qos', host: 'host-a', port: 'tap-vm1' });
  for (const k of [m, q]) assert.ok(k >= keys.section('fdb') && k < keys.prefix + 'networks0', k);
});

test('the shared mirror rules: sampling of 0, an output that is a source, no source', () => {
  const shape = {
    name: 'm',
    sources: ['a/p1'],
    sourceVnis: [],
    direction: 'both',
    sampleEvery: 1,
    output: 'a/p2',
    vni: null,
  };
  assert.equal(mirrorConfigProblem([shape], []), null);
  assert.equal(mirrorConfigProblem([{ ...shape, sampleEvery: 0 }], [])?.field, 'mirrors[0].sampleEvery');
  assert.equal(mirrorConfigProblem([{ ...shape, output: 'a/p1' }], [])?.field, 'mirrors[0].output');
  assert.equal(mirrorConfigProblem([{ ...shape, sources: [] }], [])?.field, 'mirrors[0].sources');
  assert.equal(mirrorConfigProblem([shape], ['a/p1'])?.field, 'sinks');
  assert.match(policerSpecProblem({ rateKbps: 0, burstKb: 100 }) ?? '', /^rate must be/);
});
