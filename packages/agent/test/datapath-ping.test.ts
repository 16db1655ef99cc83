import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeUdpNetwork, type FakeDatagram } from '@dvs/netdev/testing';
import { ENCAPS } from '@dvs/wire';
import type { DataPathEvents } from '../src/datapath/index.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { HOST_A, HOST_B, fakeHost, networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const VM_A = mac('02:00:00:00:0a:01');
const VM_B = mac('02:00:00:00:0b:01');

for (const encap of ENCAPS) {
  test(`two agents ping through memory over ${encap}`, async () => {
    const { net, a, b } = twoHosts();
    const seen: FakeDatagram[] = [];
    net.filter = (d) => {
      seen.push({ ...d, data: Buffer.from(d.data) });
      return true;
    };
    try {
      networkOnBoth(a, b, 100, encap);
      const tapA = a.addPort({ name: 'vm-a', mode: 'access', vni: 100 });
      const tapB = b.addPort({ name: 'vm-b', mode: 'access', vni: 100 });
      const localEvents: DataPathEvents['mac:local'][] = [];
      a.dp.on('mac:local', (e) => localEvents.push(e));

      // "ARP request": broadcast from A reaches B's VM via one head-end copy.
      const request = frame(BROADCAST, VM_A, 46, 0x0806);
      tapA.inject(request);
      await settle();
      const atB = tapB.takeWritten();
      assert.equal(atB.length, 1);
      assert.deepEqual(atB[0], request);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].from.address, HOST_A);
      assert.equal(seen[0].to.address, HOST_B);
      assert.equal(seen[0].to.port, encap === 'vxlan' ? 4789 : 4754);
      const header = seen[0].data.subarray(0, 8).toString('hex');
      assert.equal(header, encap === 'vxlan' ? '0800000000006400' : '2000655800006400');
      assert.deepEqual(seen[0].data.subarray(8), request);
      assert.deepEqual(localEvents, [{ vni: 100, mac: VM_A, port: 'vm-a', seq: 0 }]);

      // "Reply": unicast from B to A, B learned A's location from the decapsulated frame.
      const reply = frame(VM_A, VM_B, 46, 0x0806);
      tapB.inject(reply);
      await settle();
      assert.deepEqual(tapA.takeWritten(), [reply]);
      // Echo both ways as known unicast: exactly one datagram each, no flooding.
      seen.length = 0;
      const echo = frame(VM_B, VM_A, 84);
      tapA.inject(echo);
      await settle();
      const echoReply = frame(VM_A, VM_B, 84);
      tapB.inject(echoReply);
      await settle();
      assert.deepEqual(tapB.takeWritten(), [echo]);
      assert.deepEqual(tapA.takeWritten(), [echoReply]);
      assert.equal(seen.length, 2);

      const fdbA = a.dp.fdbEntries(100);
      assert.deepEqual(
        fdbA.map((e) => [e.mac, e.kind, e.location]),
        [
          ['02:00:00:00:0a:01', 'port', 'vm-a'],
          ['02:00:00:00:0b:01', 'vtep', `${HOST_B}:${encap === 'vxlan' ? 4789 : 4754}`],
        ],
      );
      const counters = a.dp.counters();
      assert.equal(counters.ports['vm-a'].rxFrames, 2);
      assert.equal(counters.ports['vm-a'].txFrames, 2);
      const peer = counters.peers[`${HOST_B}:${encap === 'vxlan' ? 4789 : 4754}`];
      assert.equal(peer.txFrames, 2);
      assert.equal(peer.rxFrames, 2);
      assert.equal(
        Object.values(counters.drops).reduce((s, n) => s + n, 0),
        0,
      );
    } finally {
      stopAll(a, b);
    }
  });
}

test('local ports of one VNI switch among themselves without the underlay', async () => {
  const { net, a, b } = twoHosts();
  let datagrams = 0;
  net.filter = () => {
    datagrams++;
    return true;
  };
  try {
    networkOnBoth(a, b, 100);
    const t1 = a.addPort({ name: 'p1', mode: 'access', vni: 100 });
    const t2 = a.addPort({ name: 'p2', mode: 'access', vni: 100 });
    const m1 = mac('02:00:00:00:00:01');
    const m2 = mac('02:00:00:00:00:02');
    t1.inject(frame(BROADCAST, m1));
    await settle();
    assert.equal(t2.takeWritten().length, 1);
    assert.equal(t1.takeWritten().length, 0, 'never back out of the ingress port');
    assert.equal(datagrams, 1, 'one head-end copy to the flood list');
    t2.inject(frame(m1, m2));
    await settle();
    assert.equal(t1.takeWritten().length, 1);
    assert.equal(datagrams, 1, 'known local unicast stays local');
    // A frame whose destination sits on its own ingress port is a hairpin drop.
    assert.equal(a.dp.counters().drops.hairpin, 0);
    t2.inject(frame(m2, mac('02:00:00:00:00:03')));
    await settle();
    assert.equal(a.dp.counters().drops.hairpin, 1);
  } finally {
    stopAll(a, b);
  }
});

test('two agents ping over an IPv6 underlay (fakes)', async () => {
  const net = new FakeUdpNetwork();
  const a = fakeHost(net, '2001:db8::1');
  const b = fakeHost(net, '2001:db8::2');
  a.dp.start();
  b.dp.start();
  try {
    networkOnBoth(a, b, 100);
    const tapA = a.addPort({ name: 'vm-a', mode: 'access', vni: 100 });
    const tapB = b.addPort({ name: 'vm-b', mode: 'access', vni: 100 });
    tapA.inject(frame(BROADCAST, VM_A));
    await settle();
    assert.equal(tapB.takeWritten().length, 1);
    tapB.inject(frame(VM_A, VM_B));
    await settle();
    assert.equal(tapA.takeWritten().length, 1);
    assert.deepEqual(
      a.dp.fdbEntries(100).map((e) => [e.mac, e.location]),
      [
        ['02:00:00:00:0a:01', 'vm-a'],
        ['02:00:00:00:0b:01', '2001:db8::2:4789'],
      ],
    );
    assert.equal(a.dp.counters().peers['2001:db8::2:4789'].rxFrames, 1);
  } finally {
    stopAll(a, b);
  }
});
