import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFrameDevice, FakeUdpNetwork } from '@dvs/netdev/testing';
import { PacketBatch, type TunnelSocket } from '@dvs/netdev';
import { DataPath, PROBE_ETHERTYPE, PROBE_MAC, type TableChange, type Vtep } from '../src/datapath/index.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { HOST_A, HOST_B, fakeHost, networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const VM = mac('02:00:00:00:00:01');

function vxlan(vni: number, inner: Buffer): Buffer {
  const h = Buffer.from([0x08, 0, 0, 0, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0]);
  return Buffer.concat([h, inner]);
}

function gre(vni: number, inner: Buffer): Buffer {
  const h = Buffer.from([0x20, 0, 0x65, 0x58, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0]);
  return Buffer.concat([h, inner]);
}

/** Sends raw datagrams from a socket bound at `from` to `to`:`port`. */
function sendRaw(net: FakeUdpNetwork, from: string, to: string, port: number, payloads: Buffer[]): void {
  const s = net.bind({ address: from, port: 0 });
  const batch = new PacketBatch(payloads.length, 2048);
  payloads.forEach((p, i) => {
    p.copy(batch.buffer, i * batch.slotSize);
    batch.offsets[i] = 0;
    batch.lengths[i] = p.length;
    batch.setIpv4Destination(i, Number(BigInt(to.split('.').reduce((n, o) => n * 256 + Number(o), 0))), port);
  });
  s.send(
    batch,
    payloads.map((_, i) => i),
    payloads.length,
  );
  s.close();
}

test('garbage from the underlay is dropped and counted by reason; the agent keeps switching', async () => {
  const { net, a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    a.dp.apply([{ kind: 'network:set', network: { vni: 300, encap: 'gre-udp', mtu: 1450 } }]);
    const tap = a.addPort({ name: 'vm', mode: 'access', vni: 100 });
    const garbage: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      Buffer.from([0x00, 0, 0, 0, 0, 0, 100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]), // I flag clear
      vxlan(100, Buffer.alloc(5)), // inner too short
      vxlan(999, frame(BROADCAST, VM)), // unknown VNI
      vxlan(300, frame(BROADCAST, VM)), // VNI of a gre-udp network on the vxlan port
      vxlan(100, frame(BROADCAST, BROADCAST)), // multicast source
      vxlan(100, frame(BROADCAST, VM, 1500)), // larger than the overlay MTU
    ];
    // Pseudo-random payloads; the VXLAN I flag is cleared so each is a certain `malformed`.
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + ((i * 37) % 200) }, (_, k) => (i * 31 + k * 7) & 255));
      junk[0] &= ~0x08;
      garbage.push(junk);
    }
    sendRaw(net, HOST_B, HOST_A, 4789, garbage);
    // GRE: truncated, K bit clear, wrong protocol.
    sendRaw(net, HOST_B, HOST_A, 4754, [
      Buffer.from([0x20, 0, 0x65]),
      Buffer.from([0x00, 0, 0x65, 0x58, 0, 1, 44, 0, ...frame(BROADCAST, VM)]),
      gre(300, Buffer.alloc(3)),
    ]);
    // An unknown VTEP: right VNI, wrong source.
    sendRaw(net, '198.51.100.77', HOST_A, 4789, [vxlan(100, frame(BROADCAST, VM))]);
    await settle();
    const drops = a.dp.counters().drops;
    assert.equal(drops['unknown-vni'], 1);
    assert.equal(drops['wrong-encap'], 1);
    assert.equal(drops['bad-src-mac'], 1);
    assert.equal(drops.mtu, 1);
    assert.equal(drops['unknown-vtep'], 1 + 1, 'the stranger, and gre(300) from B which is no peer of VNI 300');
    const total = Object.values(drops).reduce((s, n) => s + n, 0);
    assert.equal(total, garbage.length + 3 + 1 - tap.takeWritten().length);
    assert.equal(drops.malformed, 50 + 4 + 2);
    // Still switching.
    const remote = b.addPort({ name: 'r', mode: 'access', vni: 100 });
    tap.inject(frame(BROADCAST, VM));
    await settle();
    assert.equal(remote.takeWritten().length, 1);
  } finally {
    stopAll(a, b);
  }
});

test('frames larger than the overlay MTU are dropped at the port', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100, 'vxlan', 1400);
    const t1 = a.addPort({ name: 't1', mode: 'access', vni: 100 });
    const t2 = a.addPort({ name: 't2', mode: 'access', vni: 100 });
    t1.inject(frame(BROADCAST, VM, 1400), frame(BROADCAST, VM, 1401));
    await settle();
    assert.equal(t2.takeWritten().length, 1);
    assert.equal(a.dp.counters().drops.mtu, 1);
  } finally {
    stopAll(a, b);
  }
});

test('probe frames are diverted to the probe handler, never switched; sendProbe uses the tunnel', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100, 'gre-udp');
    const tapB = b.addPort({ name: 'vm', mode: 'access', vni: 100 });
    const got: [Vtep, number, string][] = [];
    b.dp.setProbeHandler((peer, vni, f) => got.push([peer, vni, f.toString('hex')]));
    const probe = frame(PROBE_MAC, mac('02:64:76:73:00:02'), 20, PROBE_ETHERTYPE);
    assert.equal(a.dp.sendProbe({ vtep: { address: HOST_B, port: 4754 }, encap: 'gre-udp', vni: 100 }, probe), true);
    await settle();
    assert.deepEqual(got, [[{ address: HOST_A, port: 4754 }, 100, probe.toString('hex')]]);
    assert.equal(tapB.takeWritten().length, 0);
    assert.equal(b.dp.fdbEntries().length, 0, 'probes are not learned');
    b.dp.setProbeHandler(null);
    a.dp.sendProbe({ vtep: { address: HOST_B, port: 4754 }, encap: 'gre-udp', vni: 100 }, probe);
    await settle();
    assert.equal(b.dp.counters().drops['probe-unhandled'], 1);
    const lone = fakeHost(new FakeUdpNetwork(), HOST_A);
    assert.equal(lone.dp.sendProbe({ vtep: { address: 'not-an-ip', port: 1 }, encap: 'vxlan', vni: 1 }, probe), false);
    assert.equal(lone.dp.lastProbeSendError(), 'EINVAL');
    stopAll(lone);
  } finally {
    stopAll(a, b);
  }
});

test('sendProbe: a datagram the socket consumed but the kernel refused is a failed send, with its errno', () => {
  const dp = new DataPath({ agingTimer: false });
  let refusal: string | null = 'ENETUNREACH';
  const socket: TunnelSocket = {
    localAddress: HOST_A,
    localPort: 4789,
    recv: () => 0,
    send: (_batch, _slots, n) => n, // consumed, as the native socket does with a refused datagram
    onReadable: () => {},
    close: () => {},
    get lastSendError() {
      return refusal;
    },
  };
  dp.attachSocket('vxlan', socket);
  const target = { vtep: { address: HOST_B, port: 4789 }, encap: 'vxlan' as const, vni: 100 };
  const probe = frame(PROBE_MAC, mac('02:64:76:73:00:01'), 20, PROBE_ETHERTYPE);
  assert.equal(dp.sendProbe(target, probe), false);
  assert.equal(dp.lastProbeSendError(), 'ENETUNREACH');
  refusal = null;
  assert.equal(dp.sendProbe(target, probe), true);
  assert.equal(dp.lastProbeSendError(), null);
});

test('apply() validates the whole batch first: one invalid change and nothing of the batch is applied', () => {
  const { a, b } = twoHosts();
  try {
    const batch: TableChange[] = [
      { kind: 'network:set', network: { vni: 7, encap: 'vxlan', mtu: 1450 } },
      { kind: 'flood:set', vni: 7, vteps: [{ address: HOST_B, port: 4789 }] },
      { kind: 'network:set', network: { vni: 0, encap: 'vxlan', mtu: 1450 } },
      { kind: 'network:set', network: { vni: 5, encap: 'vxlan', mtu: 68 } },
      { kind: 'flood:set', vni: 77, vteps: [] },
      {
        kind: 'flood:set',
        vni: 7,
        vteps: [
          { address: HOST_B, port: 4789 },
          { address: 'bogus', port: 4789 },
        ],
      },
      { kind: 'fdb:set', vni: 7, mac: -1, vtep: { address: HOST_B, port: 4789 }, seq: 0 },
    ];
    const result = a.dp.apply(batch);
    assert.equal(result.applied, 0);
    assert.deepEqual(
      result.rejected.map((r) => [r.index, r.kind]),
      [
        [2, 'network:set'],
        [3, 'network:set'],
        [4, 'flood:set'],
        [5, 'flood:set'],
        [6, 'fdb:set'],
      ],
    );
    assert.match(result.rejected[1]!.reason, /MTU must be 576\.\.9000/);
    assert.match(result.rejected[2]!.reason, /no network with VNI 77/);
    assert.equal(a.dp.rejectedChanges, 5);
    // Nothing of the batch happened, not even its valid first two changes.
    assert.deepEqual(a.dp.networkViews(), []);
    assert.deepEqual(a.dp.peerViews(), []);

    // The same valid changes alone apply; a network the batch creates counts for what follows it,
    // and one it deletes does not.
    assert.deepEqual(a.dp.apply(batch.slice(0, 2)), { applied: 2, rejected: [] });
    assert.deepEqual(
      a.dp.networkViews().map((n) => [n.vni, n.floodList]),
      [[7, [`${HOST_B}:4789`]]],
    );
    const afterDelete = a.dp.apply([
      { kind: 'network:del', vni: 7 },
      { kind: 'fdb:set', vni: 7, mac: 0x020000000001, vtep: { address: HOST_B, port: 4789 }, seq: 0 },
    ]);
    assert.deepEqual(
      afterDelete.rejected.map((r) => r.index),
      [1],
    );
    assert.equal(a.dp.networkViews().length, 1, 'the delete of a refused batch did not happen');
  } finally {
    stopAll(a, b);
  }
});

test('tx-full, remote-dst and no-socket are counted', async () => {
  const { net, a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const t1 = a.addPort({ name: 't1', mode: 'access', vni: 100 });
    const t2 = a.addPort({ name: 't2', mode: 'access', vni: 100 });
    // tx-full: the device takes nothing (EAGAIN); the frame is dropped, not queued.
    t2.setWriteBudget(0);
    t1.inject(frame(BROADCAST, VM));
    await settle();
    const c = a.dp.counters();
    assert.equal(c.drops['tx-full'], 1);
    assert.equal(c.ports.t2.txDrops, 1);
    assert.equal(c.ports.t2.txFrames, 0);
    t2.setWriteBudget(null);
    // remote-dst: B sends A a unicast for a MAC A places behind B itself.
    const elsewhere = mac('02:00:00:00:00:99');
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: elsewhere, vtep: { address: HOST_B, port: 4789 }, seq: 0 }]);
    sendRaw(net, HOST_B, HOST_A, 4789, [vxlan(100, frame(elsewhere, mac('02:00:00:00:00:98')))]);
    await settle();
    assert.equal(a.dp.counters().drops['remote-dst'], 1);
    assert.equal(t1.takeWritten().length + t2.takeWritten().length, 0);
  } finally {
    stopAll(a, b);
  }
  // no-socket: a network whose encap has no socket attached.
  const lone = new DataPath({ agingTimer: false });
  lone.apply([
    { kind: 'network:set', network: { vni: 5, encap: 'gre-udp', mtu: 1450 } },
    { kind: 'flood:set', vni: 5, vteps: [{ address: HOST_B, port: 4754 }] },
  ]);
  lone.addPort({ name: 'x', mode: 'access', vni: 5 }, new FakeFrameDevice({ name: 'x' }));
  lone.injectFrame('x', frame(BROADCAST, VM));
  assert.equal(lone.counters().drops['no-socket'], 1);
});

test('a probe from a VTEP that left this VNI (its address known in another network) is still handed over; other frames from it are not', async () => {
  const { a, b } = twoHosts();
  try {
    // Both hosts in VNI 100 (GRE-in-UDP) and 101 (VXLAN); then A leaves B's VNI 101
    // flood list, as when A's last VM in VNI 101 migrates away.
    networkOnBoth(a, b, 100, 'gre-udp');
    networkOnBoth(a, b, 101);
    b.dp.apply([{ kind: 'flood:set', vni: 101, vteps: [] }]);
    const got: [Vtep, number][] = [];
    b.dp.setProbeHandler((peer, vni) => got.push([peer, vni]));
    const probe = frame(PROBE_MAC, mac('02:64:76:73:00:02'), 20, PROBE_ETHERTYPE);
    assert.equal(a.dp.sendProbe({ vtep: { address: HOST_B, port: 4789 }, encap: 'vxlan', vni: 101 }, probe), true);
    await settle();
    // Handed over as coming from the VXLAN port it used, so the reply goes back over VXLAN.
    assert.deepEqual(got, [[{ address: HOST_A, port: 4789 }, 101]]);
    const before = b.dp.counters().drops['unknown-vtep'] ?? 0;
    const tapA = a.addPort({ name: 'vm', mode: 'access', vni: 101 });
    tapA.inject(frame(BROADCAST, VM, 46));
    await settle();
    assert.equal(b.dp.counters().drops['unknown-vtep'] ?? 0, before + 1, 'a data frame from it is still unknown-vtep');
    // An address known in no network: the probe is dropped too.
    b.dp.apply([{ kind: 'flood:set', vni: 100, vteps: [] }]);
    a.dp.sendProbe({ vtep: { address: HOST_B, port: 4789 }, encap: 'vxlan', vni: 101 }, probe);
    await settle();
    assert.equal(got.length, 1);
    assert.equal(b.dp.counters().drops['unknown-vtep'] ?? 0, before + 2);
  } finally {
    stopAll(a, b);
  }
});
