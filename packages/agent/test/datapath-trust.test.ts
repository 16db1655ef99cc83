/**
 * MAC locations follow the control plane (fdb.ts, provisional-moves.ts):
 * three data paths on a fake underlay. The controller places the victim's
 * MAC on host C; host B forges frames with it. Host A moves it only
 * provisionally (a copy still reaches C), reverts after confirmMs and counts
 * a learn conflict; C's own port holds the MAC and keeps its report. A claim
 * the controller confirms stands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import type { DataPathEvents, TableChange } from '../src/datapath/index.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { fakeHost, stopAll, type FakeHost } from './two-hosts.js';

const A = '198.51.100.1';
const B = '198.51.100.2';
const C = '198.51.100.3';
const VICTIM = mac('52:54:00:00:0c:01');
const PINGER = mac('52:54:00:00:0a:01');
const MOVER = mac('52:54:00:00:0c:02');
const vtep = (address: string) => ({ address, port: 4789 });

function threeHosts(clock: { now: number }) {
  const net = new FakeUdpNetwork();
  const options = { trustControlPlane: true, confirmMs: 1000, localHoldMs: 2000, now: () => clock.now };
  const hosts = [A, B, C].map((address) => fakeHost(net, address, options));
  for (const h of hosts) {
    const others = hosts.filter((o) => o !== h).map((o) => vtep(o.address));
    const changes: TableChange[] = [
      { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
      { kind: 'flood:set', vni: 100, vteps: others },
    ];
    h.dp.apply(changes);
    h.dp.start();
  }
  return hosts as [FakeHost, FakeHost, FakeHost];
}

const entryOf = (h: FakeHost, m: string) => h.dp.fdbEntries(100).find((e) => e.mac === m);

test('a forged tunnel claim is provisional: traffic still reaches the real VM, the move reverts and is a learn conflict', async () => {
  const clock = { now: 10_000 };
  const [a, b, c] = threeHosts(clock);
  try {
    const pinger = a.addPort({ name: 'pinger', mode: 'access', vni: 100 });
    const forger = b.addPort({ name: 'forger', mode: 'access', vni: 100 });
    const victim = c.addPort({ name: 'victim', mode: 'access', vni: 100 });
    // The controller's tables: the victim on C, the pinger on A.
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VICTIM, vtep: vtep(C), seq: 1 }]);
    b.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VICTIM, vtep: vtep(C), seq: 1 }]);
    c.dp.injectFrame('victim', frame(BROADCAST, VICTIM));
    await settle();
    const goneAtC: DataPathEvents['mac:gone'][] = [];
    c.dp.on('mac:gone', (e) => goneAtC.push(e));
    const conflictsAtA: DataPathEvents['mac:conflict'][] = [];
    a.dp.on('mac:conflict', (e) => conflictsAtA.push(e));

    // B's VM sends with the victim's MAC: flooded to A and C in tunnels from B's VTEP.
    b.dp.injectFrame('forger', frame(BROADCAST, VICTIM));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.location, `${B}:4789`);
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.provisionalHome, `${C}:4789`);
    // C's port saw the victim just now: it holds the MAC; its report is not withdrawn.
    assert.equal(entryOf(c, '52:54:00:00:0c:01')?.location, 'victim');
    assert.deepEqual(goneAtC, []);
    assert.equal(c.dp.counters().fdb.learnConflicts, 1);
    assert.equal(c.dp.learnConflicts()[0]?.outcome, 'held');

    // While provisional, the pinger's unicast reaches the victim (a copy to the controller's VTEP).
    for (const t of [pinger, forger, victim]) t.takeWritten();
    a.dp.injectFrame('pinger', frame(VICTIM, PINGER, 60));
    await settle();
    assert.equal(victim.takeWritten().length, 1, 'the real VM got it');

    // Not confirmed within confirmMs: back to C, a learn conflict naming the MAC and both VTEPs.
    clock.now += 999;
    assert.equal(a.dp.expireProvisional(), 0);
    clock.now += 1;
    assert.equal(a.dp.expireProvisional(), 1);
    const back = entryOf(a, '52:54:00:00:0c:01');
    assert.equal(back?.location, `${C}:4789`);
    assert.equal(back?.control, true);
    assert.equal(back?.provisionalHome, undefined);
    assert.equal(a.dp.counters().fdb.learnConflicts, 1);
    assert.deepEqual(conflictsAtA, [
      { vni: 100, mac: VICTIM, claimedBy: `${B}:4789`, home: `${C}:4789`, homeKind: 'vtep', outcome: 'reverted' },
    ]);
    const [view] = a.dp.learnConflicts();
    assert.equal(view?.claimedBy, `${B}:4789`);
    assert.deepEqual(view?.home, { kind: 'vtep', name: `${C}:4789` });

    // Further claims from B are ignored: no second window.
    b.dp.injectFrame('forger', frame(BROADCAST, VICTIM));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.location, `${C}:4789`);
    assert.equal(a.dp.counters().fdb.claimsIgnored, 1);
    victim.takeWritten();
    a.dp.injectFrame('pinger', frame(VICTIM, PINGER, 60));
    await settle();
    assert.equal(victim.takeWritten().length, 1);
  } finally {
    stopAll(a, b, c);
  }
});

test('a claim the controller confirms in time stands (migration), and needs no copy afterwards', async () => {
  const clock = { now: 10_000 };
  const [a, b, c] = threeHosts(clock);
  try {
    a.addPort({ name: 'pinger', mode: 'access', vni: 100 });
    const newHome = b.addPort({ name: 'mover-new', mode: 'access', vni: 100 });
    const oldHome = c.addPort({ name: 'mover-old', mode: 'access', vni: 100 });
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: MOVER, vtep: vtep(C), seq: 3 }]);
    // The VM resumes on B and announces itself: A moves it to B at once, provisionally.
    b.dp.injectFrame('mover-new', frame(BROADCAST, MOVER));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.location, `${B}:4789`);
    // B reported seq 4; the controller places it on B.
    clock.now += 200;
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: MOVER, vtep: vtep(B), seq: 4 }]);
    assert.equal(a.dp.counters().fdb.confirmed, 1);
    clock.now += 5000;
    assert.equal(a.dp.expireProvisional(), 0);
    const entry = entryOf(a, '52:54:00:00:0c:02');
    assert.equal(entry?.location, `${B}:4789`);
    assert.equal(entry?.provisionalHome, undefined);
    assert.equal(a.dp.counters().fdb.learnConflicts, 0);
    newHome.takeWritten();
    oldHome.takeWritten();
    a.dp.injectFrame('pinger', frame(MOVER, PINGER, 60));
    await settle();
    assert.equal(newHome.takeWritten().length, 1);
    assert.equal(oldHome.takeWritten().length, 0, 'no copy to the old place once confirmed');
  } finally {
    stopAll(a, b, c);
  }
});

test('an idle local port lets a tunnel claim move the MAC provisionally, keeping its report until the controller decides', async () => {
  const clock = { now: 10_000 };
  const [a, b, c] = threeHosts(clock);
  try {
    const old = a.addPort({ name: 'old', mode: 'access', vni: 100 });
    b.addPort({ name: 'new', mode: 'access', vni: 100 });
    a.dp.injectFrame('old', frame(BROADCAST, MOVER));
    await settle();
    const gone: DataPathEvents['mac:gone'][] = [];
    a.dp.on('mac:gone', (e) => gone.push(e));
    clock.now += 2000; // the port has not seen the MAC for localHoldMs
    b.dp.injectFrame('new', frame(BROADCAST, MOVER));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.location, `${B}:4789`);
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.provisionalHome, 'old');
    assert.deepEqual(gone, [], 'a tunnel frame never withdraws the local report');
    // From a tunnel, frames for it still reach the old port too, until it is decided.
    old.takeWritten();
    c.dp.apply([{ kind: 'fdb:set', vni: 100, mac: MOVER, vtep: vtep(A), seq: 0 }]);
    c.addPort({ name: 'talker', mode: 'access', vni: 100 });
    c.dp.injectFrame('talker', frame(MOVER, PINGER, 60));
    await settle();
    assert.equal(old.takeWritten().length, 1);
    // The controller places it on B with a newer seq: now the local port lets go (mac:gone).
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: MOVER, vtep: vtep(B), seq: 1 }]);
    assert.deepEqual(gone, [{ vni: 100, mac: MOVER, port: 'old' }]);
  } finally {
    stopAll(a, b, c);
  }
});

test('the controller placing a provisionally moved MAC elsewhere ends the move as a learn conflict', async () => {
  const clock = { now: 10_000 };
  const [a, b, c] = threeHosts(clock);
  try {
    a.addPort({ name: 'pinger', mode: 'access', vni: 100 });
    b.addPort({ name: 'forger', mode: 'access', vni: 100 });
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VICTIM, vtep: vtep(C), seq: 1 }]);
    const conflicts: DataPathEvents['mac:conflict'][] = [];
    a.dp.on('mac:conflict', (e) => conflicts.push(e));
    b.dp.injectFrame('forger', frame(BROADCAST, VICTIM));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.provisionalHome, `${C}:4789`);
    // The controller writes the entry again (the victim's report refreshed), still on C.
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VICTIM, vtep: vtep(C), seq: 1 }]);
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.location, `${C}:4789`);
    assert.equal(a.dp.counters().fdb.learnConflicts, 1);
    assert.deepEqual(
      conflicts.map((e) => [e.claimedBy, e.home, e.outcome]),
      [[`${B}:4789`, `${C}:4789`, 'reverted']],
    );
    // The claimant stays ignored, also after the controller says the same again.
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: VICTIM, vtep: vtep(C), seq: 1 }]);
    b.dp.injectFrame('forger', frame(BROADCAST, VICTIM));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:01')?.location, `${C}:4789`);
    assert.equal(a.dp.counters().fdb.claimsIgnored, 1);
  } finally {
    stopAll(a, b, c);
  }
});

test('while the control plane is unreachable, learning decides (a move is not provisional and does not revert)', async () => {
  const clock = { now: 10_000 };
  const [a, b, c] = threeHosts(clock);
  try {
    a.addPort({ name: 'pinger', mode: 'access', vni: 100 });
    b.addPort({ name: 'mover-new', mode: 'access', vni: 100 });
    a.dp.apply([{ kind: 'fdb:set', vni: 100, mac: MOVER, vtep: vtep(C), seq: 3 }]);
    a.dp.setControlPlaneUp(false);
    b.dp.injectFrame('mover-new', frame(BROADCAST, MOVER));
    await settle();
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.location, `${B}:4789`);
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.provisionalHome, undefined);
    clock.now += 5000;
    assert.equal(a.dp.expireProvisional(), 0);
    assert.equal(entryOf(a, '52:54:00:00:0c:02')?.location, `${B}:4789`);
    assert.equal(a.dp.counters().fdb.learnConflicts, 0);
    a.dp.setControlPlaneUp(true);
    assert.equal(a.dp.expireProvisional(), 0);
  } finally {
    stopAll(a, b, c);
  }
});
