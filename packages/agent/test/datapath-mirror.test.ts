// Port mirroring in the data path (mirror.ts), on the fake two-host lab:
// SPAN copies exactly the selected frames to a local output port (direction,
// filters, 1-in-N sampling, trunk tags kept), the output port is not
// switched, RSPAN carries copies inside the mirror VNI to the analyser port
// of the other host, copies never teach the FDB, and removing the mirrors
// leaves nothing behind. Bad configurations name the field and change
// nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROADCAST, frame, mac, settle, taggedFrame, vlanOf } from './frames.js';
import { HOST_B, networkOnBoth, stopAll, twoHosts } from './two-hosts.js';
import type { MirrorConfig } from '../src/datapath/index.js';
import { renderMetrics } from '../src/observe/metrics.js';

const VM1 = mac('02:00:00:00:00:01');
const VM2 = mac('02:00:00:00:00:02');
const FAR = mac('02:00:00:00:00:0f');
const NONE: MirrorConfig = { mirrors: [], sinks: [] };

function setup() {
  const hosts = twoHosts();
  networkOnBoth(hosts.a, hosts.b, 100);
  networkOnBoth(hosts.a, hosts.b, 200);
  const vm1 = hosts.a.addPort({ name: 'vm1', mode: 'access', vni: 100 });
  const vm2 = hosts.a.addPort({ name: 'vm2', mode: 'access', vni: 100 });
  const trunk = hosts.a.addPort({ name: 'trunk', mode: 'trunk', vlans: new Map([[20, 200]]) });
  const span = hosts.a.addPort({ name: 'span', mode: 'access', vni: 100 });
  const far = hosts.b.addPort({ name: 'far', mode: 'access', vni: 100 });
  const analyser = hosts.b.addPort({ name: 'analyser', mode: 'access', vni: 100 });
  return { ...hosts, vm1, vm2, trunk, span, far, analyser };
}

test('SPAN: ingress, egress or both of a port, exactly the selected frames; the output port is not switched', async () => {
  const { a, b, vm1, vm2, span, far } = setup();
  try {
    a.dp.setMirrors({
      mirrors: [{ name: 'm1', sourcePorts: ['vm1'], sourceVnis: [], direction: 'both', output: { port: 'span' } }],
      sinks: [],
    });
    // 5 frames from vm1 (ingress), 3 frames to vm1 (egress: vm2 → vm1 once vm1 is learned).
    for (let k = 0; k < 5; k++) vm1.inject(frame(BROADCAST, VM1, 100 + k));
    await settle();
    for (let k = 0; k < 3; k++) vm2.inject(frame(VM1, VM2, 200));
    await settle();
    const copies = span.takeWritten();
    assert.equal(copies.length, 8);
    assert.deepEqual(
      copies.map((f) => f.length),
      [114, 115, 116, 117, 118, 214, 214, 214],
      'the frames themselves, byte for byte in length',
    );
    assert.deepEqual(copies[5], frame(VM1, VM2, 200));
    assert.equal(vm2.takeWritten().length, 5, 'vm2 got the broadcasts as before');
    assert.equal(vm1.takeWritten().length, 3);
    assert.equal(far.takeWritten().length, 5, 'the broadcasts crossed as before');

    // The output port is no member: it gets no floods and what it sends goes nowhere.
    span.inject(frame(BROADCAST, mac('02:00:00:00:00:99')));
    await settle();
    assert.equal(vm1.takeWritten().length + vm2.takeWritten().length + far.takeWritten().length, 0);
    const c = a.dp.counters();
    assert.equal(c.drops['mirror-output'], 1);
    assert.deepEqual(c.mirrors?.['m1'], { mirrored: 8, mirroredBytes: 5 * 116 + 3 * 214, dropped: 0 });
    assert.match(renderMetrics('a', c), /^dvs_agent_mirror_mirrored_total\{host="a",mirror="m1"\} 8$/m);
    assert.equal(
      a.dp.fdbEntries(100).some((e) => e.mac === '02:00:00:00:00:99'),
      false,
      'nothing learned from the output port',
    );

    // Egress only: the frames to vm1, not from it.
    a.dp.setMirrors({
      mirrors: [{ name: 'm1', sourcePorts: ['vm1'], sourceVnis: [], direction: 'egress', output: { port: 'span' } }],
      sinks: [],
    });
    vm1.inject(frame(VM2, VM1));
    vm2.inject(frame(VM1, VM2, 60));
    await settle();
    assert.deepEqual(
      span.takeWritten().map((f) => f.length),
      [74],
    );

    // Off: no copies, counters stop, the port is switched again.
    a.dp.setMirrors(NONE);
    vm1.inject(frame(BROADCAST, VM1));
    await settle();
    assert.equal(span.takeWritten().length, 1, 'a member again: it gets the broadcast');
    assert.deepEqual(a.dp.mirrorViews(), []);
    assert.equal(a.dp.counters().mirrors?.['m1'], undefined);
  } finally {
    stopAll(a, b);
  }
});

test('SPAN of a VNI with filters and sampling; a trunk frame keeps its tag on the copy', async () => {
  const { a, b, vm1, vm2, trunk, span } = setup();
  try {
    a.dp.setMirrors({
      mirrors: [
        {
          name: 'by-mac',
          sourcePorts: [],
          sourceVnis: [100],
          direction: 'ingress',
          srcMac: VM2,
          sampleEvery: 3,
          output: { port: 'span' },
        },
        {
          name: 'vlan20',
          sourcePorts: ['trunk'],
          sourceVnis: [],
          direction: 'ingress',
          vlan: 20,
          output: { port: 'span' },
        },
      ],
      sinks: [],
    });
    for (let k = 0; k < 10; k++) vm1.inject(frame(BROADCAST, VM1));
    for (let k = 0; k < 9; k++) vm2.inject(frame(BROADCAST, VM2, 80));
    trunk.inject(taggedFrame(BROADCAST, mac('02:00:00:00:00:20'), 20));
    await settle();
    const copies = span.takeWritten();
    assert.equal(copies.length, 3 + 1, 'every third frame of VM2, none of VM1, one tagged');
    assert.deepEqual(
      copies.slice(0, 3).map((f) => f.length),
      [94, 94, 94],
    );
    assert.equal(vlanOf(copies[3]!), 20, 'the copy is the frame as on the trunk');
    assert.deepEqual(
      a.dp.mirrorViews().map((v) => [v.name, v.mirrored]),
      [
        ['by-mac', 3],
        ['vlan20', 1],
      ],
    );
  } finally {
    stopAll(a, b);
  }
});

test('RSPAN: copies cross in the mirror VNI to the analyser port of the other host, and teach no FDB', async () => {
  const { a, b, vm1, far, analyser } = setup();
  try {
    b.dp.setMirrors({ mirrors: [], sinks: [{ vni: 999, port: 'analyser' }] });
    a.dp.setMirrors({
      mirrors: [
        {
          name: 'remote',
          sourcePorts: ['vm1'],
          sourceVnis: [],
          direction: 'ingress',
          output: { vni: 999, encap: 'vxlan', vtep: { address: HOST_B, port: 4789 } },
        },
      ],
      sinks: [],
    });
    for (let k = 0; k < 4; k++) vm1.inject(frame(BROADCAST, VM1, 300));
    vm1.inject(frame(FAR, VM1, 64));
    await settle();
    const copies = analyser.takeWritten();
    assert.equal(copies.length, 5);
    assert.deepEqual(copies[0], frame(BROADCAST, VM1, 300));
    assert.deepEqual(copies[4], frame(FAR, VM1, 64));
    assert.equal(far.takeWritten().length, 5, 'the network carried the frames as before (FAR unknown: flooded)');
    const bView = b.dp.mirrorViews();
    assert.deepEqual(
      bView.map((v) => [v.name, v.mirrored, v.mirroredBytes]),
      [['rspan-999', 5, 4 * 314 + 78]],
    );
    assert.equal(b.dp.counters().drops['unknown-vni'], 0, 'the mirror VNI is accepted, not dropped');
    // VM1 is learned on B from the real frames (VNI 100), never from the copies: one entry, in VNI 100.
    assert.deepEqual(
      b.dp.fdbEntries().map((e) => e.vni),
      [100],
    );

    // Off on both: what still arrives in VNI 999 is dropped as unknown, nothing reaches the analyser.
    a.dp.setMirrors(NONE);
    vm1.inject(frame(BROADCAST, VM1));
    await settle();
    assert.equal(analyser.takeWritten().length, 0);
    assert.equal(a.dp.mirrorViews().length, 0);
  } finally {
    stopAll(a, b);
  }
});

test('bad mirror settings name the field and change nothing', () => {
  const { a, b } = setup();
  try {
    const good: MirrorConfig = {
      mirrors: [{ name: 'm1', sourcePorts: ['vm1'], sourceVnis: [], direction: 'both', output: { port: 'span' } }],
      sinks: [],
    };
    a.dp.setMirrors(good);
    const refuses = (config: MirrorConfig, field: RegExp): void =>
      assert.throws(
        () => a.dp.setMirrors(config),
        (e: Error & { code?: string }) => e.code === 'DVS_BAD_ARGUMENT' && field.test(e.message),
      );
    const m = good.mirrors[0]!;
    refuses({ mirrors: [{ ...m, sampleEvery: 0 }], sinks: [] }, /^mirrors\[0\]\.sampleEvery: .*got 0/);
    refuses(
      { mirrors: [{ ...m, output: { port: 'vm1' } }], sinks: [] },
      /^mirrors\[0\]\.output: port vm1 is a source of this mirror/,
    );
    refuses(
      { mirrors: [m, { ...m, name: 'm2', sourcePorts: ['span'], output: { port: 'vm2' } }], sinks: [] },
      /^mirrors\[0\]\.output: port span is a source of mirror m2/,
    );
    refuses(
      { mirrors: [{ ...m, output: { vni: 200, encap: 'vxlan', vtep: { address: HOST_B, port: 4789 } } }], sinks: [] },
      /^mirrors\[0\]\.output\.vni: VNI 200 is a network here/,
    );
    refuses({ mirrors: [], sinks: [{ vni: 100, port: 'span' }] }, /^sinks\[0\]\.vni: VNI 100 is a network here/);
    refuses({ mirrors: [{ ...m, sourcePorts: [] }], sinks: [] }, /^mirrors\[0\]\.sources: /);
    assert.deepEqual(
      a.dp.mirrorViews().map((v) => [v.name, v.direction, v.output]),
      [['m1', 'both', { kind: 'port', port: 'span', present: true }]],
      'the earlier setting stands',
    );
  } finally {
    stopAll(a, b);
  }
});
