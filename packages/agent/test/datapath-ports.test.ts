import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeDatagram } from '@dvs/netdev/testing';
import { BROADCAST, frame, mac, settle, taggedFrame, vlanOf } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const TRUNK_VM = mac('02:00:00:00:00:01');
const VM_100 = mac('02:00:00:00:01:00');
const VM_200 = mac('02:00:00:00:02:00');

test('trunk: VLAN 10→VNI 100 and 20→VNI 200; tag stripped for access ports and tunnels, restored on trunk egress', async () => {
  const { net, a, b } = twoHosts();
  const tunnelled: FakeDatagram[] = [];
  net.filter = (d) => {
    tunnelled.push({ ...d, data: Buffer.from(d.data) });
    return true;
  };
  try {
    networkOnBoth(a, b, 100);
    networkOnBoth(a, b, 200);
    const trunk = a.addPort({
      name: 'trunk',
      mode: 'trunk',
      vlans: new Map([
        [10, 100],
        [20, 200],
      ]),
    });
    const acc100 = a.addPort({ name: 'acc100', mode: 'access', vni: 100 });
    const acc200 = a.addPort({ name: 'acc200', mode: 'access', vni: 200 });
    const remote200 = b.addPort({ name: 'r200', mode: 'access', vni: 200 });

    trunk.inject(taggedFrame(BROADCAST, TRUNK_VM, 10));
    await settle();
    const at100 = acc100.takeWritten();
    assert.equal(at100.length, 1);
    assert.equal(vlanOf(at100[0]), -1, 'untagged on the access port');
    assert.deepEqual(at100[0], frame(BROADCAST, TRUNK_VM));
    assert.equal(acc200.takeWritten().length, 0, 'VLAN 10 stays out of VNI 200');
    assert.equal(tunnelled.length, 1);
    assert.equal(tunnelled[0].data.readUIntBE(4, 3), 100);
    assert.equal(vlanOf(tunnelled[0].data.subarray(8)), -1, 'tag stripped before tunnelling');

    // From VNI 200 (local access and remote) back to the trunk: tagged 20.
    acc200.inject(frame(TRUNK_VM, VM_200));
    remote200.inject(frame(BROADCAST, mac('02:00:00:00:02:01')));
    await settle();
    const atTrunk = trunk.takeWritten();
    assert.equal(atTrunk.length, 2);
    for (const f of atTrunk) assert.equal(vlanOf(f), 20);
    assert.deepEqual(
      atTrunk.find((f) => f.readUIntBE(6, 6) === VM_200),
      taggedFrame(TRUNK_VM, VM_200, 20),
    );
    assert.equal(acc200.takeWritten().length, 1, 'the remote broadcast reached the local access port too');

    // Unicast from access 100 to the trunk VM (learned on VLAN 10): tag pushed in place.
    acc100.inject(frame(TRUNK_VM, VM_100));
    await settle();
    assert.deepEqual(trunk.takeWritten(), [taggedFrame(TRUNK_VM, VM_100, 10)]);

    // Unmapped VLAN, untagged and QinQ on a trunk are dropped and counted.
    trunk.inject(taggedFrame(BROADCAST, TRUNK_VM, 30));
    trunk.inject(frame(BROADCAST, TRUNK_VM));
    const qinq = taggedFrame(BROADCAST, TRUNK_VM, 10);
    qinq.writeUInt16BE(0x88a8, 12);
    trunk.inject(qinq);
    await settle();
    assert.equal(acc100.takeWritten().length + acc200.takeWritten().length, 0);
    const drops = a.dp.counters().drops;
    assert.equal(drops['unmapped-vlan'], 2);
    assert.equal(drops.qinq, 1);
  } finally {
    stopAll(a, b);
  }
});

test('isolation: VNI 100 and VNI 200 never see each other, broadcasts included, locally and across hosts', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    networkOnBoth(a, b, 200);
    const a100 = a.addPort({ name: 'a100', mode: 'access', vni: 100 });
    const a200 = a.addPort({ name: 'a200', mode: 'access', vni: 200 });
    const b100 = b.addPort({ name: 'b100', mode: 'access', vni: 100 });
    const b200 = b.addPort({ name: 'b200', mode: 'access', vni: 200 });
    a100.inject(frame(BROADCAST, VM_100));
    await settle();
    assert.equal(b100.takeWritten().length, 1);
    assert.equal(a200.takeWritten().length + b200.takeWritten().length, 0);
    // A unicast to a MAC known only in VNI 100 sent from VNI 200 is unknown there: flooded in 200 only.
    b200.inject(frame(VM_100, VM_200));
    await settle();
    assert.equal(a100.takeWritten().length, 0);
    assert.equal(a200.takeWritten().length, 1);
    assert.deepEqual(
      a.dp.fdbEntries(100).map((e) => e.mac),
      ['02:00:00:00:01:00'],
    );
    assert.deepEqual(
      a.dp.fdbEntries(200).map((e) => e.mac),
      ['02:00:00:00:02:00'],
    );
  } finally {
    stopAll(a, b);
  }
});

test('ports come and go at run time without disturbing the others', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const p1 = a.addPort({ name: 'p1', mode: 'access', vni: 100 });
    const remote = b.addPort({ name: 'r', mode: 'access', vni: 100 });
    const gone: string[] = [];
    a.dp.on('mac:gone', (e) => gone.push(e.port));
    const p2 = a.addPort({ name: 'p2', mode: 'access', vni: 100 });
    p2.inject(frame(BROADCAST, mac('02:00:00:00:00:02')));
    await settle();
    assert.equal(p1.takeWritten().length, 1);
    assert.throws(() => a.addPort({ name: 'p2', mode: 'access', vni: 100 }), { code: 'DVS_PORT_EXISTS' });
    assert.equal(a.dp.removePort('p2'), p2);
    assert.deepEqual(gone, ['p2']);
    p1.inject(frame(BROADCAST, mac('02:00:00:00:00:01')));
    await settle();
    assert.equal(remote.takeWritten().length, 2);
    assert.equal(p2.takeWritten().length, 0);
    assert.throws(() => a.dp.removePort('p2'), { code: 'DVS_PORT_NOT_FOUND' });
  } finally {
    stopAll(a, b);
  }
});
