import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { describeLink, isNetdevError, listLinks, openLinkMonitor, openTapSync } from '../src/index.js';
import type { LinkInfo, LinkMonitor, LinkMonitorEvents } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';
import { waitFor } from '@dvs/test-support';

// The rtnetlink link monitor and describeLink, against real devices created
// and deleted in a namespace of our own.

let ns: LabNamespace;
let seq = 0;
const uniqueName = (): string => `dvn${process.pid}m${seq++}`;

before(() => {
  ns = new LabNamespace(`dvn${process.pid}m`);
});
after(() => ns.dispose());

type Recorded = { event: keyof LinkMonitorEvents; name: string; link: LinkInfo; previous?: LinkInfo };

/** Records every event of the monitor, in order. */
function record(monitor: LinkMonitor): Recorded[] {
  const events: Recorded[] = [];
  for (const event of ['link:new', 'link:up', 'link:down', 'link:del'] as const) {
    monitor.on(event, (link) => events.push({ event, name: link.name, link }));
  }
  monitor.on('link:change', (link, previous) => events.push({ event: 'link:change', name: link.name, link, previous }));
  monitor.on('monitor:resync', () => events.push({ event: 'monitor:resync', name: '', link: null as never }));
  return events;
}

function eventsOf(events: Recorded[], name: string): string[] {
  return events.filter((e) => e.name === name).map((e) => e.event);
}

test('describeLink: an existing link with its kind, MTU and state; a missing one; names no link can have', () => {
  const name = uniqueName();
  ns.ip('link', 'add', name, 'mtu', '1400', 'type', 'veth', 'peer', 'name', `${name}p`);
  try {
    const link = ns.run(() => describeLink(name));
    assert.ok(link.exists);
    assert.equal(link.kind, 'veth');
    assert.equal(link.mtu, 1400);
    assert.equal(link.up, false);
    assert.equal(link.ethernet, true);
    assert.match(link.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.deepEqual(
      ns.run(() => describeLink(`${name}x`)),
      { exists: false, name: `${name}x` },
    );
    const lo = ns.run(() => describeLink('lo'));
    assert.ok(lo.exists && lo.loopback && lo.kind === 'loopback');
    // Namespaces are separate worlds: our veth is not in the root namespace.
    assert.equal(describeLink(name).exists, false);
    const links = ns.run(() => listLinks());
    assert.deepEqual(links.map((l) => l.name).sort(), ['lo', name, `${name}p`].sort());
    assert.deepEqual(
      links.map((l) => l.ifindex),
      links.map((l) => l.ifindex).sort((a, b) => a - b),
    );
    assert.throws(
      () => describeLink('a-name-that-is-too-long'),
      (err) => isNetdevError(err, 'DVS_NAME_TOO_LONG'),
    );
  } finally {
    ns.ip('link', 'del', name);
  }
});

test('a TAP: new when created, del when its fd closes, new again (another ifindex) when it comes back', async () => {
  const monitor = ns.run(() => openLinkMonitor());
  const events = record(monitor);
  const name = uniqueName();
  try {
    const tap = ns.run(() => openTapSync({ name }));
    await waitFor('link:new for the TAP', () => eventsOf(events, name).includes('link:new'), 5000, 2);
    const first = monitor.get(name);
    assert.equal(first?.kind, 'tap');
    tap.close();
    await waitFor('link:del for the TAP', () => eventsOf(events, name).includes('link:del'), 5000, 2);
    assert.equal(monitor.get(name), undefined);
    const again = ns.run(() => openTapSync({ name }));
    await waitFor(
      'the second link:new',
      () => eventsOf(events, name).filter((e) => e === 'link:new').length === 2,
      5000,
      2,
    );
    const second = monitor.get(name);
    assert.notEqual(second?.ifindex, first?.ifindex);
    again.close();
    await waitFor(
      'the second link:del',
      () => eventsOf(events, name).filter((e) => e === 'link:del').length === 2,
      5000,
      2,
    );
    const del = events.filter((e) => e.name === name && e.event === 'link:del');
    assert.deepEqual(
      del.map((e) => e.link.ifindex),
      [first?.ifindex, second?.ifindex],
    );
  } finally {
    monitor.close();
  }
});

test('a veth pair and a macvlan: new (with kinds), up, down, MTU change, rename, del', async () => {
  const monitor = ns.run(() => openLinkMonitor());
  const events = record(monitor);
  const name = uniqueName();
  const peer = `${name}p`;
  const mac = `${name}v`;
  try {
    ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
    ns.ip('link', 'add', mac, 'link', name, 'type', 'macvlan', 'mode', 'bridge');
    await waitFor('the three links', () => [name, peer, mac].every((n) => monitor.get(n) !== undefined), 5000, 2);
    assert.equal(monitor.get(name)?.kind, 'veth');
    assert.equal(monitor.get(mac)?.kind, 'macvlan');
    assert.equal(monitor.get(mac)?.parentIndex, monitor.get(name)?.ifindex);

    ns.ip('link', 'set', peer, 'up');
    ns.ip('link', 'set', name, 'up'); // both ends up: carrier, so up
    await waitFor('link:up', () => eventsOf(events, name).includes('link:up'), 5000, 2);
    assert.equal(monitor.get(name)?.up, true);
    ns.ip('link', 'set', name, 'mtu', '1300');
    await waitFor('link:change for the MTU', () => eventsOf(events, name).includes('link:change'), 5000, 2);
    const change = events.find((e) => e.name === name && e.event === 'link:change');
    assert.equal(change?.link.mtu, 1300);
    assert.equal(change?.previous?.mtu, 1500);
    ns.ip('link', 'set', name, 'down');
    await waitFor('link:down', () => eventsOf(events, name).includes('link:down'), 5000, 2);

    const renamed = `${name}r`;
    ns.ip('link', 'set', mac, 'name', renamed);
    await waitFor('the rename', () => monitor.get(renamed) !== undefined, 5000, 2);
    assert.equal(monitor.get(mac), undefined);
    const rename = events.find((e) => e.name === renamed && e.event === 'link:change');
    assert.equal(rename?.previous?.name, mac);

    ns.ip('link', 'del', name); // takes its peer and the macvlan on it along
    await waitFor(
      'three link:del',
      () => [name, peer, renamed].every((n) => eventsOf(events, n).includes('link:del')),
      5000,
      2,
    );
    assert.deepEqual(eventsOf(events, peer)[0], 'link:new');
  } finally {
    monitor.close();
  }
});

test('lost notifications (a socket buffer too small for a burst) are recovered by a resync', async () => {
  const monitor = ns.run(() => openLinkMonitor({ receiveBufferBytes: 1 }));
  const events = record(monitor);
  const names = Array.from({ length: 12 }, () => uniqueName());
  try {
    // One synchronous burst: the loop cannot read while `ip` runs, so the
    // smallest socket buffer the kernel allows overflows.
    const script = names.map((n) => `link add ${n} type veth peer name ${n}p`).join('\n');
    execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: script });
    await waitFor('every link in the table', () => names.every((n) => monitor.get(n) !== undefined), 5000, 2);
    assert.ok(
      events.some((e) => e.event === 'monitor:resync'),
      'the overflow was noticed',
    );
    for (const n of names) assert.deepEqual(eventsOf(events, n), ['link:new'], `${n}: one link:new`);
    execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: names.map((n) => `link del ${n}`).join('\n') });
    await waitFor('every link gone from the table', () => names.every((n) => monitor.get(n) === undefined), 5000, 2);
    for (const n of names) assert.deepEqual(eventsOf(events, n), ['link:new', 'link:del'], `${n}: then one link:del`);
  } finally {
    monitor.close();
  }
});

test('AbortSignal and close() stop the monitor; no event afterwards', async () => {
  const controller = new AbortController();
  const monitor = ns.run(() => openLinkMonitor({ signal: controller.signal }));
  const events = record(monitor);
  controller.abort();
  assert.equal(monitor.closed, true);
  monitor.close();
  const name = uniqueName();
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  ns.ip('link', 'del', name);
  assert.deepEqual(events, []);
  assert.throws(() => openLinkMonitor({ signal: controller.signal }), { name: 'AbortError' });
  assert.throws(() => openLinkMonitor({ receiveBufferBytes: 0 }), RangeError);
});
