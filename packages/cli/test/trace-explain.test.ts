import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainTrace, renderTrace, type TraceTables } from '../src/trace/trace-explain.js';
import { blue, fdb, flood, hosts, tunnels } from './cluster-fixtures.js';

const tables: TraceTables = { network: blue, fdb, flood: flood[0], hosts, tunnels };
const SRC = '02:00:00:00:00:01'; // on host-a
const DST = '02:00:00:00:00:02'; // on host-b, duplicate, tunnel a→b down

test('known unicast to another host: encap to its VTEP, with the tunnel health and warnings', () => {
  const r = explainTrace({ vni: 100, src: SRC, dst: DST }, tables, 'controller tables');
  assert.equal(r.host, 'host-a', 'ingress from where the FDB places the source');
  assert.deepEqual(
    r.steps.map((s) => s.step),
    ['network', 'source', 'ingress', 'classify', 'lookup', 'output'],
  );
  assert.equal(r.decision.action, 'encap');
  assert.deepEqual(r.decision.outputs, [
    {
      kind: 'vtep',
      host: 'host-b',
      vtep: { address: '192.0.2.2', port: 4789 },
      encap: 'vxlan',
      tunnel: { state: 'down', reason: 'probe timeout', rttAvgMs: 0.25 },
    },
  ]);
  assert.ok(r.warnings.some((w) => /duplicate, frozen/.test(w)));
  assert.ok(r.warnings.some((w) => /frames to 192\.0\.2\.2:4789 are lost: tunnel down \(probe timeout/.test(w)));
  const text = renderTrace(r);
  assert.match(text, /^source: controller tables$/m);
  assert.match(text, /^4\. classify\s+ports of host-a in VNI 100: tap0 \(access\)$/m);
  assert.match(text, /^decision: encap: destination is behind host-b 192\.0\.2\.2:4789$/m);
});

test('broadcast floods to local ports and head-end copies, never back to the ingress VTEP', () => {
  const r = explainTrace({ vni: 100, src: SRC, dst: 'ff:ff:ff:ff:ff:ff' }, tables, 'x');
  assert.equal(r.decision.action, 'flood');
  const vteps = r.decision.outputs.filter((o) => o.kind === 'vtep').map((o) => o.vtep?.address);
  assert.deepEqual(vteps, ['192.0.2.2', '203.0.113.9']);
  assert.equal(r.decision.outputs.find((o) => o.vtep?.address === '203.0.113.9')?.tunnel?.state, 'unmonitored');
});

test('unknown unicast floods; flood mode none keeps it local', () => {
  const miss = explainTrace({ vni: 100, src: SRC, dst: '02:00:00:00:00:77' }, tables, 'x');
  assert.equal(miss.decision.action, 'flood');
  assert.match(miss.decision.reason, /unknown unicast/);
  const none = explainTrace(
    { vni: 100, src: SRC, dst: '02:00:00:00:00:77' },
    { ...tables, network: { ...blue, floodMode: 'none' } },
    'x',
  );
  assert.deepEqual(none.decision.outputs, [{ kind: 'port', host: 'host-a' }]);
});

test('local destination, seen from the destination host', () => {
  const r = explainTrace({ vni: 100, src: DST, dst: SRC, host: 'host-a' }, tables, 'x');
  assert.equal(r.decision.action, 'deliver-local');
  assert.ok(r.warnings.some((w) => /located on host-b: seen on host-a it is a move \(reported with seq 5\)/.test(w)));
});

test('drops and unknowns: unknown VNI, group source, unknown ingress', () => {
  assert.equal(explainTrace({ vni: 7, src: SRC, dst: DST }, { ...tables, network: null }, 'x').decision.action, 'drop');
  assert.equal(explainTrace({ vni: 100, src: '01:00:5e:00:00:01', dst: DST }, tables, 'x').decision.action, 'drop');
  const unknown = explainTrace({ vni: 100, src: '02:00:00:00:00:55', dst: DST }, tables, 'x');
  assert.equal(unknown.decision.action, 'unknown');
  assert.match(unknown.decision.reason, /use --host/);
  assert.equal(explainTrace({ vni: 100, src: SRC, dst: DST, host: 'nope' }, tables, 'x').decision.action, 'drop');
});

test("the agent's FDB wins over the controller's and a disagreement is reported", () => {
  const r = explainTrace(
    { vni: 100, src: SRC, dst: DST },
    { ...tables, agentFdb: [{ vni: 100, mac: DST, kind: 'vtep', location: '192.0.2.3:4789' }] },
    'agent FDB + controller tables',
  );
  assert.equal(r.decision.action, 'encap');
  assert.deepEqual(r.decision.outputs[0].vtep, { address: '192.0.2.3', port: 4789 });
  assert.ok(r.warnings.some((w) => /agent and controller disagree/.test(w)));
  const local = explainTrace(
    { vni: 100, src: SRC, dst: DST },
    { ...tables, agentFdb: [{ vni: 100, mac: DST, kind: 'port', location: 'tap7' }] },
    'x',
  );
  assert.deepEqual(local.decision.outputs, [{ kind: 'port', host: 'host-a', port: 'tap7' }]);
});
