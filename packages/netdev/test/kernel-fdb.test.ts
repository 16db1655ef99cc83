import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PacketBatch, isNetdevError, macText, openFdbMonitor, openRtnetlink } from '../src/index.js';
import type { FdbChange, FdbEntry, FdbMonitor, Rtnetlink } from '../src/index.js';
import { LabNamespace, PacketSocket } from '../src/testing/index.js';
import { place } from './compliance/frames.js';
import { waitFor } from '@dvs/test-support';

// FDB programming through Rtnetlink: batches with per-change errors, flood
// lists, the fields of a vxlan entry, a bridge's own table, and the monitor's
// resync, each checked against `bridge fdb show`.

const id = `dvk${process.pid}`;
let ns: LabNamespace;
let rtnl: Rtnetlink;
let seq = 0;
const uniqueName = (): string => `${id}f${seq++}`;

before(() => {
  ns = new LabNamespace(`${id}f`);
  rtnl = ns.run(() => openRtnetlink());
});
after(() => {
  rtnl.close();
  ns.dispose();
});

/** A fresh vxlan device (its own port, so devices never share a socket). */
function vxlan(): string {
  const name = uniqueName();
  rtnl.createVxlan({ name, vni: 1000 + seq, port: 5000 + seq, local: '198.51.100.1' });
  return name;
}

/** `bridge fdb show dev <name>` lines of the device's own table ("self"), sorted. */
function shown(name: string): string[] {
  return execFileSync('bridge', ['-n', ns.name, 'fdb', 'show', 'dev', name], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(' self'))
    .map((l) => l.trim())
    .sort();
}

const mac = (i: number): number => 0x020000100000 + i;
const vtep = (i: number): string => `198.51.100.${10 + (i % 200)}`;

test('a batch applies every good change and reports each refused one with its errno, in order', () => {
  const dev = vxlan();
  const ifindex = rtnl.link(dev)!.ifindex;
  const changes: FdbChange[] = [];
  for (let i = 0; i < 300; i++) changes.push({ op: 'add', device: dev, mac: mac(i), dst: vtep(i) });
  // Refusals spread through the batch.
  changes.splice(10, 0, { op: 'add', device: `${id}gone`, mac: mac(1000), dst: vtep(0) });
  changes.splice(50, 0, { op: 'add', device: 999999, mac: mac(1001), dst: vtep(0) });
  changes.splice(100, 0, { op: 'add', device: ifindex, mac: mac(5), dst: vtep(9) });
  changes.splice(299, 0, { op: 'del', device: dev, mac: mac(2000) });
  const result = rtnl.applyFdbSync(changes);
  assert.equal(result.applied, 300);
  assert.deepEqual(
    result.failed.map((f) => [f.index, f.code, f.errno]),
    [
      [10, 'DVS_NO_DEVICE', 'ENODEV'],
      [50, 'DVS_NO_DEVICE', 'ENODEV'],
      [100, 'DVS_NETLINK_EXISTS', 'EEXIST'],
      [299, 'DVS_NETLINK_NOT_FOUND', 'ENOENT'],
    ],
  );
  assert.match(
    result.failed[0].message,
    new RegExp(`fdb add 02:00:00:10:03:e8 dst 198\\.51\\.100\\.10 on ${id}gone: no device`),
  );
  assert.equal(result.failed[2].change, changes[100]);
  const expected = Array.from({ length: 300 }, (_, i) => `${macText(mac(i))} dst ${vtep(i)} self static`).sort();
  assert.deepEqual(shown(dev), expected, 'the kernel holds exactly the good changes');
  // And the same batch as deletions takes them all away.
  const removed = rtnl.applyFdbSync(Array.from({ length: 300 }, (_, i) => ({ op: 'del', device: dev, mac: mac(i) })));
  assert.deepEqual(removed, { applied: 300, failed: [] });
  assert.deepEqual(shown(dev), []);
  rtnl.deleteLink(dev);
});

test('a bad change refuses the whole batch before anything is sent, naming the field', async () => {
  const dev = vxlan();
  rtnl.applyFdbSync([{ op: 'add', device: dev, mac: mac(1), dst: vtep(1) }]);
  const before = shown(dev);
  const good: FdbChange = { op: 'add', device: dev, mac: mac(2), dst: vtep(2) };
  const cases: [FdbChange, RegExp][] = [
    [
      { op: 'add', device: dev, mac: mac(3), dst: '198.51.100.300' },
      /^changes\[1\]\.dst must be an IPv4 or IPv6 address/,
    ],
    [{ op: 'replace', device: dev, mac: 0, dst: vtep(3) }, /^changes\[1\]\.op replace only takes unicast MACs/],
    [{ op: 'append', device: dev, mac: mac(3), dst: vtep(3) }, /^changes\[1\]\.op append only takes the all-zeros/],
    [{ op: 'add', device: dev, mac: 2 ** 48, dst: vtep(3) }, /^changes\[1\]\.mac must be an integer/],
    [{ op: 'add', device: dev, mac: mac(3), table: 'master', dst: vtep(3) }, /^changes\[1\]\.dst is a vxlan/],
    [{ op: 'add', device: dev, mac: mac(3), vni: 2 ** 24 }, /^changes\[1\]\.vni must be an integer of 0\.\.16777215/],
    [{ op: 'upsert' as never, device: dev, mac: mac(3) }, /^changes\[1\]\.op must be one of add, replace, append, del/],
  ];
  for (const [bad, message] of cases) {
    for (const apply of [() => rtnl.applyFdbSync([good, bad]), () => rtnl.applyFdb([good, bad], { chunkSize: 1 })]) {
      await assert.rejects(
        async () => apply(),
        (err) => isNetdevError(err, 'DVS_NETLINK_INVALID') && message.test(err.message),
      );
    }
  }
  assert.deepEqual(shown(dev), before, 'nothing changed');
  rtnl.deleteLink(dev);
});

test('a flood list: one all-zeros entry per VTEP by append, idempotent; one VTEP removed by its dst', () => {
  const dev = vxlan();
  const flood = (op: 'append' | 'del', dst: string): FdbChange => ({ op, device: dev, mac: 0, dst });
  let result = rtnl.applyFdbSync([flood('append', vtep(1)), flood('append', vtep(2)), flood('append', vtep(3))]);
  assert.deepEqual(result, { applied: 3, failed: [] });
  result = rtnl.applyFdbSync([flood('append', vtep(2))]);
  assert.deepEqual(result, { applied: 1, failed: [] }, 'appending a VTEP already listed changes nothing');
  assert.deepEqual(
    shown(dev),
    [1, 2, 3].map((i) => `00:00:00:00:00:00 dst ${vtep(i)} self static`),
  );
  assert.deepEqual(rtnl.applyFdbSync([flood('del', vtep(2))]).failed, []);
  assert.deepEqual(
    shown(dev),
    [1, 3].map((i) => `00:00:00:00:00:00 dst ${vtep(i)} self static`),
  );
  const entries = rtnl.fdb({ device: dev }).filter((e) => e.table === 'self');
  assert.deepEqual(entries.map((e) => [e.mac, e.dst, e.state]).sort(), [
    [0, vtep(1), 'static'],
    [0, vtep(3), 'static'],
  ]);
  rtnl.deleteLink(dev);
});

test('every field of a vxlan entry reaches the kernel: port, VNI, underlay device, states; IPv6 VTEPs on an IPv6 device', () => {
  const dev = vxlan();
  const underlay = uniqueName();
  ns.ip('link', 'add', underlay, 'type', 'veth', 'peer', 'name', `${underlay}p`);
  const result = rtnl.applyFdbSync([
    { op: 'add', device: dev, mac: mac(7), dst: vtep(7), dstPort: 4790, vni: 77, via: underlay, state: 'permanent' },
    { op: 'replace', device: dev, mac: mac(8), dst: vtep(8), state: 'dynamic' },
    { op: 'add', device: dev, mac: mac(9), dst: '2001:db8::9' },
  ]);
  assert.deepEqual(
    result.failed.map((f) => [f.index, f.code, f.errno]),
    [[2, 'DVS_NETLINK_UNSUPPORTED', 'EAFNOSUPPORT']],
    'an IPv4 device takes no IPv6 VTEP',
  );
  assert.deepEqual(shown(dev), [
    `${macText(mac(7))} dst ${vtep(7)} port 4790 vni 77 via ${underlay} self permanent`,
    `${macText(mac(8))} dst ${vtep(8)} self`,
  ]);
  const [seven] = rtnl.fdb({ device: dev }).filter((e) => e.mac === mac(7));
  assert.deepEqual(
    { dst: seven.dst, dstPort: seven.dstPort, vni: seven.vni, via: seven.via, state: seven.state },
    { dst: vtep(7), dstPort: 4790, vni: 77, via: rtnl.link(underlay)!.ifindex, state: 'permanent' },
  );
  // Replace points a unicast entry at another VTEP.
  rtnl.applyFdbSync([{ op: 'replace', device: dev, mac: mac(7), dst: vtep(9) }]);
  assert.ok(shown(dev).includes(`${macText(mac(7))} dst ${vtep(9)} self static`));

  const six = uniqueName();
  rtnl.createVxlan({ name: six, vni: 6000, port: 4999, local: '2001:db8::1' });
  assert.deepEqual(rtnl.applyFdbSync([{ op: 'append', device: six, mac: 0, dst: '2001:db8::9' }]).failed, []);
  assert.deepEqual(shown(six), ['00:00:00:00:00:00 dst 2001:db8::9 self static']);
  assert.equal(rtnl.fdb({ device: six }).find((e) => e.table === 'self')?.dst, '2001:db8::9');
  ns.ip('link', 'del', underlay);
  rtnl.deleteLink(dev);
  rtnl.deleteLink(six);
});

test("a bridge's table: a static entry on a port, and the dump by master", () => {
  const bridge = uniqueName();
  const port = uniqueName();
  rtnl.createBridge({ name: bridge });
  ns.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`);
  rtnl.setLink(port, { master: bridge, up: true });
  assert.deepEqual(rtnl.applyFdbSync([{ op: 'add', device: port, table: 'master', mac: mac(42) }]).failed, []);
  const line = execFileSync('bridge', ['-n', ns.name, 'fdb', 'show', 'br', bridge], { encoding: 'utf8' });
  assert.match(line, new RegExp(`${macText(mac(42))} dev ${port} master ${bridge} static`));
  const entries: FdbEntry[] = rtnl.fdb({ master: bridge });
  const entry = entries.find((e) => e.mac === mac(42));
  assert.deepEqual(
    { table: entry?.table, master: entry?.master, ifindex: entry?.ifindex, state: entry?.state },
    { table: 'master', master: rtnl.link(bridge)!.ifindex, ifindex: rtnl.link(port)!.ifindex, state: 'static' },
  );
  const portMac = rtnl.link(port)!.mac;
  assert.ok(
    entries.some((e) => macText(e.mac) === portMac && e.state === 'permanent'),
    "the port's own MAC",
  );
  ns.ip('link', 'del', port);
  rtnl.deleteLink(bridge);
});

test('applyFdb yields between chunks and stops at an abort; the result adds up across chunks', async () => {
  const dev = vxlan();
  const changes: FdbChange[] = Array.from({ length: 100 }, (_, i) => ({
    op: 'add',
    device: dev,
    mac: mac(i),
    dst: vtep(i),
  }));
  changes[57] = { ...changes[57], device: `${id}gone` };
  const result = await rtnl.applyFdb(changes, { chunkSize: 16 });
  assert.equal(result.applied, 99);
  assert.deepEqual(
    result.failed.map((f) => f.index),
    [57],
  );
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(rtnl.applyFdb(changes, { signal: controller.signal }), { name: 'AbortError' });
  assert.equal(shown(dev).length, 99);
  rtnl.deleteLink(dev);
});

test('acks lost to a full receive queue are reported as unconfirmed, not as applied', () => {
  const dev = vxlan();
  const tiny = ns.run(() => openRtnetlink({ receiveBufferBytes: 1, fdbBatchMessages: 200 }));
  try {
    const result = tiny.applyFdbSync(
      Array.from({ length: 200 }, (_, i) => ({ op: 'add', device: dev, mac: mac(i), dst: vtep(i) })),
    );
    assert.ok(result.failed.length > 0, 'the smallest queue cannot hold 200 acks');
    assert.ok(result.failed.every((f) => f.code === 'DVS_NETLINK_UNCONFIRMED' && f.errno === 'ENOBUFS'));
    assert.equal(result.applied + result.failed.length, 200);
    // They were applied all the same: the kernel processed every message.
    assert.equal(shown(dev).length, 200);
  } finally {
    tiny.close();
  }
  rtnl.deleteLink(dev);
});

test('the FDB monitor: a burst that overflows its socket is recovered by a resync, one event per entry', async () => {
  const dev = vxlan();
  const ifindex = rtnl.link(dev)!.ifindex;
  const monitor: FdbMonitor = ns.run(() => openFdbMonitor({ receiveBufferBytes: 1, tables: 'self' }));
  const adds = new Map<number, number>();
  const dels = new Map<number, number>();
  let resyncs = 0;
  monitor.on('fdb:add', (e) => e.ifindex === ifindex && adds.set(e.mac, (adds.get(e.mac) ?? 0) + 1));
  monitor.on('fdb:del', (e) => e.ifindex === ifindex && dels.set(e.mac, (dels.get(e.mac) ?? 0) + 1));
  monitor.on('monitor:resync', () => resyncs++);
  try {
    const count = 300;
    // Synchronous: the monitor cannot read while the batch runs.
    rtnl.applyFdbSync(Array.from({ length: count }, (_, i) => ({ op: 'add', device: dev, mac: mac(i), dst: vtep(i) })));
    await waitFor('an fdb:add for every entry', () => adds.size === count, 5000, 2);
    assert.ok(resyncs > 0, 'the overflow was noticed');
    assert.ok(
      [...adds.values()].every((n) => n === 1),
      'exactly one fdb:add each',
    );
    assert.equal(monitor.entriesOf(ifindex).length, count);
    rtnl.applyFdbSync(Array.from({ length: count }, (_, i) => ({ op: 'del', device: dev, mac: mac(i) })));
    await waitFor('an fdb:del for every entry', () => dels.size === count, 5000, 2);
    assert.ok(
      [...dels.values()].every((n) => n === 1),
      'exactly one fdb:del each',
    );
    assert.equal(monitor.entriesOf(ifindex).length, 0);
  } finally {
    monitor.close();
  }
  rtnl.deleteLink(dev);
});

test("a MAC announced on one port, then on another (a migrated VM's RARP): fdb:add, then fdb:add with the previous port", async () => {
  const bridge = uniqueName();
  const ports = [uniqueName(), uniqueName()];
  const bridgeIndex = rtnl.createBridge({ name: bridge }).ifindex;
  for (const port of ports) {
    ns.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`);
    ns.ip('link', 'set', `${port}p`, 'up');
    rtnl.setLink(port, { master: bridge, up: true });
  }
  const [first, second] = ports.map((p) => rtnl.link(p)!.ifindex);
  const monitor = ns.run(() => openFdbMonitor({ tables: 'master' }));
  const seen: { ifindex: number; previous: number | undefined }[] = [];
  const vm = mac(77);
  monitor.on(
    'fdb:add',
    (e, previous) => e.mac === vm && seen.push({ ifindex: e.ifindex, previous: previous?.ifindex }),
  );
  monitor.on('fdb:del', (e) => e.mac === vm && seen.push({ ifindex: -e.ifindex, previous: undefined }));
  // A RARP broadcast (ethertype 0x8035) from the VM's MAC, sent in at a port.
  const rarp = Buffer.alloc(60);
  rarp.fill(0xff, 0, 6);
  rarp.writeUIntBE(vm, 6, 6);
  rarp.writeUInt16BE(0x8035, 12);
  const announce = (port: string): void => {
    const wire = ns.run(() => new PacketSocket(`${port}p`));
    const batch = new PacketBatch(1, 128);
    place(batch, 0, rarp, 0);
    assert.equal(wire.send(batch, [0], 1), 1);
    wire.close();
  };
  try {
    announce(ports[0]);
    await waitFor('the MAC learned on the first port', () => seen.length === 1, 5000, 2);
    announce(ports[1]);
    await waitFor('the MAC moved to the second port', () => seen.length === 2, 5000, 2);
    rtnl.applyFdbSync([{ op: 'del', device: ports[1], table: 'master', mac: vm }]);
    await waitFor('the entry deleted', () => seen.length === 3, 5000, 2);
    assert.deepEqual(seen, [
      { ifindex: first, previous: undefined },
      { ifindex: second, previous: first },
      { ifindex: -second, previous: undefined },
    ]);
    assert.equal(
      monitor.entriesOf(bridgeIndex).some((e) => e.mac === vm),
      false,
    );
  } finally {
    monitor.close();
    for (const port of ports) ns.ip('link', 'del', port);
    rtnl.deleteLink(bridge);
  }
});
