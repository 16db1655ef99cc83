import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import { BROADCAST, frame, mac } from './frames.js';
import { HOST_A, HOST_B, fakeHost, stopAll, type FakeHost } from './two-hosts.js';

const LEARNED = mac('02:00:00:00:00:01');
const REMOTE = mac('02:00:00:00:00:0b');
const STATIC = mac('02:00:00:00:00:05');
const FRESH = mac('02:00:00:00:00:77');

/** Host A: VNI 100 (vxlan, flood list B), VNI 200 (gre-udp, no flood list); vm1, vm2 access 100; trunk t1 10=100,20=200. */
function lab(): FakeHost {
  const a = fakeHost(new FakeUdpNetwork(), HOST_A);
  a.dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    { kind: 'network:set', network: { vni: 200, encap: 'gre-udp', mtu: 1400 } },
    { kind: 'flood:set', vni: 100, vteps: [{ address: HOST_B, port: 4789 }] },
    { kind: 'fdb:set', vni: 100, mac: REMOTE, vtep: { address: HOST_B, port: 4789 }, seq: 3 },
    { kind: 'fdb:set', vni: 200, mac: REMOTE, vtep: { address: HOST_B, port: 4754 }, seq: 1 },
  ]);
  a.addPort({ name: 'vm1', mode: 'access', vni: 100 });
  a.addPort({ name: 'vm2', mode: 'access', vni: 100 });
  a.addPort({
    name: 't1',
    mode: 'trunk',
    vlans: new Map([
      [10, 100],
      [20, 200],
    ]),
  });
  a.dp.addStaticLocal(100, STATIC, 'vm2');
  a.dp.injectFrame('vm1', frame(BROADCAST, LEARNED)); // learned on vm1
  return a;
}

test('trace: known remote unicast is encapsulated to its VTEP with the header bytes, and nothing changes', () => {
  const a = lab();
  try {
    const before = { counters: a.dp.counters(), fdb: a.dp.fdbEntries() };
    const report = a.dp.trace({ vni: 100, src: LEARNED, dst: REMOTE, port: 'vm1' });
    assert.equal(report.decision.action, 'encap');
    assert.deepEqual(report.decision.outputs, [
      {
        kind: 'vtep',
        vtep: `${HOST_B}:4789`,
        address: HOST_B,
        udpPort: 4789,
        sourcePort: 4789, // the fake socket has no source-port pool: the tunnel port itself
        encap: 'vxlan',
        tunnelHeader: '0800000000006400', // I flag, VNI 100 (0x000064) << 8
      },
    ]);
    assert.match(report.steps.find((s) => s.step === 'source')!.result, /refresh/);
    assert.match(report.steps.find((s) => s.step === 'mtu')!.result, /1450/);
    // Read-only: same counters (no rx, no learn, no tx) and the same FDB.
    assert.deepEqual(a.dp.counters(), before.counters);
    assert.deepEqual(a.dp.fdbEntries(), before.fdb);

    const gre = a.dp.trace({ vni: 200, src: FRESH, dst: REMOTE, port: 't1' });
    assert.equal(gre.decision.action, 'encap');
    assert.deepEqual(
      gre.decision.outputs.map((o) => o.kind === 'vtep' && [o.udpPort, o.tunnelHeader]),
      [[4754, '200065580000c800']],
    );
    assert.match(gre.steps[0].result, /VLAN 20 → VNI 200/);
  } finally {
    stopAll(a);
  }
});

test('trace: a miss or a broadcast floods to the other local ports and the flood list, never back to the ingress', () => {
  const a = lab();
  try {
    for (const dst of [BROADCAST, mac('02:00:00:00:00:99')]) {
      const report = a.dp.trace({ vni: 100, src: FRESH, dst, port: 'vm1' });
      assert.equal(report.decision.action, 'flood');
      assert.deepEqual(
        report.decision.outputs.map((o) => (o.kind === 'port' ? `${o.port}/${o.vlan}` : `${o.vtep}/${o.tunnelHeader}`)),
        ['vm2/null', 't1/10', `${HOST_B}:4789/0800000000006400`],
      );
      assert.match(report.steps.find((s) => s.step === 'source')!.result, /new: learned on port vm1 \(taken back/);
    }
    assert.equal(a.dp.fdbEntries().filter((e) => e.mac === '02:00:00:00:00:77').length, 0, 'trace learned nothing');
    // Without an ingress port every member gets a copy.
    const anywhere = a.dp.trace({ vni: 100, src: FRESH, dst: BROADCAST });
    assert.equal(anywhere.decision.outputs.filter((o) => o.kind === 'port').length, 3);
  } finally {
    stopAll(a);
  }
});

test('trace: local delivery, hairpin, moves and static sources', () => {
  const a = lab();
  try {
    const local = a.dp.trace({ vni: 100, src: LEARNED, dst: STATIC, port: 't1' });
    assert.equal(local.decision.action, 'deliver-local');
    assert.deepEqual(local.decision.outputs, [{ kind: 'port', port: 'vm2', vlan: null }]);
    assert.match(local.steps.find((s) => s.step === 'source')!.result, /move: from port vm1 to port t1/);
    const back = a.dp.trace({ vni: 100, src: REMOTE, dst: LEARNED, port: 't1' });
    assert.equal(back.decision.action, 'deliver-local');
    assert.match(
      back.steps.find((s) => s.step === 'source')!.result,
      /move: from VTEP .*4789 to port t1 \(seq 3 → 4\)/,
    );
    const hairpin = a.dp.trace({ vni: 100, src: FRESH, dst: STATIC, port: 'vm2' });
    assert.equal(hairpin.decision.dropReason, 'hairpin');
    const fromStatic = a.dp.trace({ vni: 100, src: STATIC, dst: LEARNED, port: 'vm1' });
    assert.match(fromStatic.steps.find((s) => s.step === 'source')!.result, /static at port vm2: left as it is/);
  } finally {
    stopAll(a);
  }
});

test('trace: a source seen elsewhere is learned where it is sent from in the run, and the table is as before after', () => {
  const a = lab();
  try {
    const before = a.dp.fdbEntries();
    // LEARNED sits on vm1; a frame from it on the trunk moves it there first, so a frame to itself
    // then finds it on the ingress port: the run says hairpin, as switching it for real would.
    const self = a.dp.trace({ vni: 100, src: LEARNED, dst: LEARNED, port: 't1' });
    assert.equal(self.decision.dropReason, 'hairpin');
    assert.match(self.steps.find((s) => s.step === 'source')!.result, /move: from port vm1 to port t1/);
    assert.deepEqual(a.dp.fdbEntries(), before);
  } finally {
    stopAll(a);
  }
});

test('trace: drops say which counter would count them', () => {
  const a = lab();
  try {
    const cases: [Parameters<typeof a.dp.trace>[0], string][] = [
      [{ vni: 300, src: FRESH, dst: REMOTE }, 'unknown-vni'],
      [{ vni: 300, src: FRESH, dst: REMOTE, port: 't1' }, 'unmapped-vlan'],
      [{ vni: 100, src: BROADCAST, dst: REMOTE, port: 'vm1' }, 'bad-src-mac'],
      [{ vni: 100, src: FRESH, dst: REMOTE, port: 'vm1', length: 14 + 1451 }, 'mtu'],
      [{ vni: 100, src: LEARNED, dst: LEARNED, port: 'vm1' }, 'hairpin'],
    ];
    for (const [query, reason] of cases) {
      const report = a.dp.trace(query);
      assert.equal(report.decision.action, 'drop', JSON.stringify(query));
      assert.equal(report.decision.dropReason, reason, JSON.stringify(query));
    }
    assert.throws(() => a.dp.trace({ vni: 100, src: FRESH, dst: REMOTE, port: 'nope' }), {
      code: 'DVS_PORT_NOT_FOUND',
    });
    // An access port puts every frame in its own VNI: asking about another is a mistake, said so.
    assert.throws(() => a.dp.trace({ vni: 200, src: FRESH, dst: REMOTE, port: 'vm1' }), {
      code: 'DVS_BAD_ARGUMENT',
      message: /vm1 is an access port of VNI 100/,
    });
  } finally {
    stopAll(a);
  }
});
