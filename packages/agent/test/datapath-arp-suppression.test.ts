// ARP and ND suppression in the data path (arp-responder.ts, ip-bindings.ts),
// on two fake hosts: bindings learned from local ports, requests for bound IPs
// answered locally with the reply the owner would send (nothing crosses the
// overlay), unknown IPs flooded, conflicts counted (first one wins), remote
// bindings from the controller, and no answer for a MAC that is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildArpReply,
  buildArpRequest,
  buildDhcpAck,
  buildGratuitousArp,
  parseIpv4Address,
  parseIpv6Address,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
} from '@dvs/wire';
import type { DataPathEvents as Events } from '../src/datapath/index.js';
import { suppressionMetricLines } from '../src/observe/metrics.js';
import { mac, settle } from './frames.js';
import { networkOnBoth, stopAll, twoHosts, HOST_B } from './two-hosts.js';

const VM1 = mac('52:54:00:00:00:01');
const VM2 = mac('52:54:00:00:00:02');
const VM3 = mac('52:54:00:00:00:03');
const IP1 = parseIpv4Address('203.0.113.1')!;
const IP2 = parseIpv4Address('203.0.113.2')!;
const IP9 = parseIpv4Address('203.0.113.9')!;
const V6_1 = parseIpv6Address('2001:db8:100::1')!;
const V6_2 = parseIpv6Address('2001:db8:100::2')!;

function ns(src: number, srcIp: Uint8Array, target: Uint8Array): Buffer {
  const f = Buffer.alloc(86);
  writeNeighborSolicitation(f, 0, { srcMac: src, srcIp, targetIp: target });
  return f;
}
function unsolicitedNa(src: number, ip: Uint8Array): Buffer {
  const f = Buffer.alloc(86);
  const allNodes = parseIpv6Address('ff02::1')!;
  writeNeighborAdvertisement(f, 0, {
    srcMac: src,
    dstMac: 0x333300000001,
    srcIp: ip,
    dstIp: allNodes,
    targetIp: ip,
    override: true,
  });
  return f;
}

function setup(arpSuppression: boolean) {
  const hosts = twoHosts();
  const { a, b } = hosts;
  networkOnBoth(a, b, 100);
  for (const h of [a, b])
    h.dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450, arpSuppression } }]);
  const t1 = a.addPort({ name: 't1', mode: 'access', vni: 100 });
  const t2 = a.addPort({ name: 't2', mode: 'access', vni: 100 });
  const far = b.addPort({ name: 'far', mode: 'access', vni: 100 });
  return { ...hosts, t1, t2, far };
}

test('with suppression on, a bound IP is answered locally, byte for byte as its owner would, and nothing crosses', async () => {
  const { a, b, t1, t2, far } = setup(true);
  try {
    const bound: Events['ip:bound'][] = [];
    a.dp.on('ip:bound', (e) => bound.push(e));
    // VM2 on t2 announces itself (gratuitous ARP): a binds 203.0.113.2 → VM2.
    t2.inject(buildGratuitousArp(VM2, IP2));
    await settle();
    assert.deepEqual(bound, [{ vni: 100, mac: VM2, ip: '203.0.113.2', port: 't2' }]);
    t1.takeWritten();
    far.takeWritten();

    // VM1 on t1 asks for 203.0.113.2 (42 bytes, as Linux writes it to a TAP).
    t1.inject(buildArpRequest(VM1, IP1, IP2).subarray(0, 42));
    await settle();
    const answers = t1.takeWritten();
    assert.equal(answers.length, 1, 'one answer back out of t1');
    assert.deepEqual(answers[0], buildArpReply(VM2, IP2, VM1, IP1), 'the reply VM2 itself would send');
    assert.equal(t2.takeWritten().length, 0, 'VM2 was not asked');
    assert.equal(far.takeWritten().length, 0, 'nothing crossed the overlay');
    const view = a.dp.networkViews()[0]!;
    assert.equal(view.arpSuppression, true);
    assert.equal(view.suppression.answered, 1);
    assert.equal(view.suppression.flooded, 0);

    // An unknown IP is flooded as before, and counted.
    t1.inject(buildArpRequest(VM1, IP1, IP9));
    await settle();
    assert.equal(far.takeWritten().length, 1, 'unknown IP: flooded to the other host');
    assert.equal(t2.takeWritten().length, 1, 'and to the other local port');
    assert.equal(a.dp.networkViews()[0]!.suppression.flooded, 1);
    // The same counters on /metrics, per VNI.
    const metrics = suppressionMetricLines('host-a', a.dp.networkViews()).join('\n');
    assert.match(metrics, /^dvs_agent_suppression_answered_total\{host="host-a",vni="100"\} 1$/m);
    assert.match(metrics, /^dvs_agent_suppression_flooded_total\{host="host-a",vni="100"\} 1$/m);
    assert.match(metrics, /^dvs_agent_suppression_bindings\{host="host-a",vni="100"\} [1-9]/m);

    // The fdb view carries the IPs.
    const entry = a.dp.fdbEntries(100).find((e) => e.mac === '52:54:00:00:00:02');
    assert.deepEqual(entry?.ips, ['203.0.113.2']);
  } finally {
    stopAll(a, b);
  }
});

test('with suppression off, bindings are learned but every request is flooded', async () => {
  const { a, b, t1, t2, far } = setup(false);
  try {
    t2.inject(buildGratuitousArp(VM2, IP2));
    await settle();
    far.takeWritten();
    t1.takeWritten();
    t1.inject(buildArpRequest(VM1, IP1, IP2));
    await settle();
    assert.equal(t1.takeWritten().length, 0, 'no answer from the switch');
    assert.equal(far.takeWritten().length, 1, 'the broadcast crossed');
    assert.equal(t2.takeWritten().length, 1);
    assert.equal(a.dp.networkViews()[0]!.suppression.bindings, 2, 'both senders bound');
    assert.equal(a.dp.networkViews()[0]!.suppression.answered, 0);
  } finally {
    stopAll(a, b);
  }
});

test('IPv6: an NS for a bound address is answered with the solicited NA its owner would send', async () => {
  const { a, b, t1, t2, far } = setup(true);
  try {
    t2.inject(unsolicitedNa(VM2, V6_2));
    await settle();
    far.takeWritten();
    t1.takeWritten();
    t1.inject(ns(VM1, V6_1, V6_2));
    await settle();
    const answers = t1.takeWritten();
    assert.equal(answers.length, 1);
    const expected = Buffer.alloc(86);
    writeNeighborAdvertisement(expected, 0, {
      srcMac: VM2,
      dstMac: VM1,
      srcIp: V6_2,
      dstIp: V6_1,
      targetIp: V6_2,
      solicited: true,
      override: true,
    });
    assert.deepEqual(answers[0], expected);
    assert.equal(far.takeWritten().length, 0, 'nothing crossed');
    // The NS taught a that 2001:db8:100::1 is VM1's.
    const vm1 = a.dp.fdbEntries(100).find((e) => e.mac === '52:54:00:00:00:01');
    assert.deepEqual(vm1?.ips, ['2001:db8:100::1']);
  } finally {
    stopAll(a, b);
  }
});

test('conflicts: the first MAC keeps the IP, the claim is counted; a MAC that is gone answers nothing', async () => {
  const { a, b, t1, t2, far } = setup(true);
  try {
    t2.inject(buildGratuitousArp(VM2, IP2));
    t1.inject(buildGratuitousArp(VM3, IP2)); // VM3 claims VM2's IP
    t1.inject(buildGratuitousArp(VM3, IP2));
    await settle();
    const view = a.dp.networkViews()[0]!;
    assert.equal(view.suppression.conflicts, 2);
    assert.deepEqual(view.suppression.recentConflicts, [
      { ip: '203.0.113.2', mac: '52:54:00:00:00:02', loser: '52:54:00:00:00:03', count: 2 },
    ]);
    // VM2's port goes: its MAC leaves the FDB, so its binding answers nothing any more.
    a.dp.removePort('t2');
    t1.takeWritten();
    far.takeWritten();
    t1.inject(buildArpRequest(VM1, IP1, IP2));
    await settle();
    assert.equal(t1.takeWritten().length, 0, 'no stale answer');
    assert.equal(far.takeWritten().length, 1, 'flooded instead');
    // And the IP can be taken now.
    t1.inject(buildGratuitousArp(VM3, IP2));
    await settle();
    t1.takeWritten();
    far.takeWritten();
    const t4 = a.addPort({ name: 't4', mode: 'access', vni: 100 });
    t4.inject(buildArpRequest(VM1, IP1, IP2));
    await settle();
    assert.deepEqual(t4.takeWritten()[0], buildArpReply(VM3, IP2, VM1, IP1), 'VM3 holds it now');
  } finally {
    stopAll(a, b);
  }
});

test('remote bindings come with the controller FDB entry, and go with it', async () => {
  const { a, b, t1, far } = setup(true);
  try {
    const vtep = { address: HOST_B, port: 4789 };
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VM2, vtep, seq: 1, ips: ['203.0.113.2', '2001:db8:100::2'] }]);
    t1.inject(buildArpRequest(VM1, IP1, IP2));
    await settle();
    assert.deepEqual(t1.takeWritten()[0], buildArpReply(VM2, IP2, VM1, IP1));
    assert.equal(far.takeWritten().length, 0);
    t1.inject(ns(VM1, V6_1, V6_2));
    await settle();
    assert.equal(t1.takeWritten().length, 1, 'IPv6 answered from the controller binding too');

    a.dp.apply([{ kind: 'fdb:del', vni: 100, mac: VM2 }]);
    t1.inject(buildArpRequest(VM1, IP1, IP2));
    await settle();
    assert.equal(t1.takeWritten().length, 0, 'withdrawn: no answer');
    assert.equal(far.takeWritten().length, 1, 'flooded');

    const refused = a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VM2, vtep, seq: 2, ips: ['not-an-ip'] }]);
    assert.equal(refused.applied, 0);
    assert.match(refused.rejected[0]!.reason, /ips/);
  } finally {
    stopAll(a, b);
  }
});

test('unicast requests (a neighbour checking its entry) and ARP probes are never answered by the switch', async () => {
  const { a, b, t1, t2, far } = setup(true);
  try {
    t2.inject(buildGratuitousArp(VM2, IP2));
    await settle();
    t1.takeWritten();
    far.takeWritten();
    const unicast = buildArpRequest(VM1, IP1, IP2);
    unicast.writeUIntBE(VM2, 0, 6);
    t1.inject(unicast);
    const probe = buildArpRequest(VM1, 0, IP2);
    t1.inject(probe);
    await settle();
    assert.equal(t1.takeWritten().length, 0);
    assert.equal(t2.takeWritten().length, 2, 'both reach VM2');
    assert.equal(a.dp.networkViews()[0]!.suppression.answered, 0);
  } finally {
    stopAll(a, b);
  }
});

test('DHCP snooping: a DHCPACK from a local server binds the address it gives to its client', async () => {
  const { a, b, t1, t2 } = setup(true);
  try {
    const SERVER = VM3;
    t1.inject(buildGratuitousArp(VM1, IP1)); // the client is known (on t1)
    t2.inject(buildDhcpAck({ serverMac: SERVER, serverIp: IP9, clientMac: VM1, clientIp: IP2 }));
    await settle();
    assert.deepEqual(a.dp.fdbEntries(100).find((e) => e.mac === '52:54:00:00:00:01')?.ips, [
      '203.0.113.1',
      '203.0.113.2',
    ]);
    // A DHCPACK for a client nobody knows binds nothing.
    t2.inject(buildDhcpAck({ serverMac: SERVER, serverIp: IP9, clientMac: mac('52:54:00:00:00:77'), clientIp: IP9 }));
    await settle();
    assert.equal(a.dp.networkViews()[0]!.suppression.bindings, 2, "only VM1's two addresses");
  } finally {
    stopAll(a, b);
  }
});
