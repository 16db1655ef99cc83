import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFrameDevice } from '@dvs/netdev/testing';
import { DataPath, Fdb, LearnResult, newFdbCounters, type DataPathEvents } from '../src/datapath/index.js';
import { Peer } from '../src/datapath/peer.js';
import { Port } from '../src/datapath/port.js';
import { frame, mac } from './frames.js';

const port = (name: string) => new Port({ name, mode: 'access', vni: 100 }, new FakeFrameDevice({ name }), 4, 4);
const m = (n: number) => 0x020000000000 + n;

test('aging: a dynamic entry not seen for agingMs goes, one seen since stays (injected clock)', () => {
  const fdb = new Fdb(100, newFdbCounters(), { agingMs: 300_000 });
  const p1 = port('p1');
  fdb.learn(m(1), p1, true, 0);
  fdb.learn(m(2), p1, true, 0);
  assert.equal(fdb.learn(m(2), p1, true, 200_000), LearnResult.Refreshed);
  assert.deepEqual(
    fdb.expire(299_999).map((e) => e.mac),
    [],
  );
  assert.deepEqual(
    fdb.expire(300_000).map((e) => e.mac),
    [m(1)],
  );
  assert.equal(fdb.lookup(m(2))?.location, p1);
  assert.deepEqual(
    fdb.expire(500_000).map((e) => e.mac),
    [m(2)],
  );
  assert.equal(fdb.size, 0);
  assert.equal(fdb.counters.aged, 2);
});

test('default aging is 300 s', () => {
  assert.equal(new Fdb(1, newFdbCounters()).agingMs, 300_000);
});

test('eviction is fair: the port holding the most entries loses its least recently seen one', () => {
  const counters = newFdbCounters();
  const fdb = new Fdb(100, counters, { limit: 6 });
  const noisy = port('noisy');
  const quiet = port('quiet');
  const peer = new Peer('198.51.100.2', 4, 0xc6336402, null, 4789);
  fdb.learn(m(1), quiet, true, 1);
  fdb.learn(m(2), peer, false, 2);
  for (let i = 10; i < 14; i++) fdb.learn(m(i), noisy, true, i);
  fdb.learn(m(10), noisy, true, 100); // m(10) is now the most recently seen of noisy
  assert.equal(fdb.size, 6);
  // Full: a new MAC on the quiet port evicts noisy's least recently seen (m(11)).
  assert.equal(fdb.learn(m(3), quiet, true, 101), LearnResult.Learned);
  assert.equal(fdb.size, 6);
  assert.equal(fdb.lookup(m(11)), undefined);
  assert.equal(fdb.lastEvicted?.mac, m(11));
  assert.ok(fdb.lookup(m(1)) && fdb.lookup(m(2)) && fdb.lookup(m(10)));
  // Keep flooding from noisy: it only ever evicts its own entries while it holds the most.
  for (let i = 20; i < 40; i++) fdb.learn(m(i), noisy, true, 200 + i);
  assert.equal(fdb.lookup(m(1))?.location, quiet);
  assert.equal(fdb.lookup(m(3))?.location, quiet);
  assert.equal(fdb.lookup(m(2))?.location, peer);
  assert.equal(fdb.dynamicCountOf(noisy), 3);
  assert.equal(counters.evictions, 21);
});

test('static entries never age, never evict, never move; a table full of them refuses learns', () => {
  const counters = newFdbCounters();
  const fdb = new Fdb(100, counters, { limit: 1, agingMs: 10 });
  const p1 = port('p1');
  const p2 = port('p2');
  const peer = new Peer('198.51.100.2', 4, 0xc6336402, null, 4789);
  fdb.setControl(m(1), peer, 0, true, 0);
  fdb.setStaticLocal(m(2), p1, 0);
  assert.equal(fdb.learn(m(1), p2, true, 5), LearnResult.Ignored);
  assert.equal(fdb.lookup(m(1))?.location, peer);
  assert.equal(fdb.expire(1_000_000).length, 0);
  // Statics are outside the limit: one dynamic entry still fits.
  assert.equal(fdb.learn(m(3), p2, true, 5), LearnResult.Learned);
  assert.equal(fdb.learn(m(4), p2, true, 6), LearnResult.Learned, 'evicts m(3)');
  assert.equal(fdb.lookup(m(3)), undefined);
  assert.equal(fdb.size, 3);
  assert.equal(fdb.flush().length, 1);
  assert.equal(fdb.size, 2);
  // limit 0: nothing dynamic to evict → refused
  const full = new Fdb(100, counters, { limit: 0 });
  assert.equal(full.learn(m(9), p1, true, 0), LearnResult.Refused);
  assert.equal(counters.refused, 1);
});

test('moves: a MAC seen at another location follows, is counted, and remote→local bumps seq', () => {
  const counters = newFdbCounters();
  const fdb = new Fdb(100, counters);
  const p1 = port('p1');
  const p2 = port('p2');
  const peer = new Peer('198.51.100.2', 4, 0xc6336402, null, 4789);
  fdb.setControl(m(1), peer, 4, false, 0);
  assert.equal(fdb.learn(m(1), p1, true, 1), LearnResult.Moved);
  assert.equal(fdb.lookup(m(1))?.seq, 5);
  assert.equal(fdb.lastMovedFrom, peer);
  assert.equal(fdb.learn(m(1), p2, true, 2), LearnResult.Moved);
  assert.equal(fdb.lookup(m(1))?.seq, 5, 'local→local keeps seq');
  assert.equal(fdb.lookup(m(1))?.moves, 2);
  assert.equal(counters.moves, 2);
  // The controller places it remote again with an older seq: our newer local entry stays.
  assert.equal(fdb.setControl(m(1), peer, 3, false, 3), null);
  assert.equal(fdb.lookup(m(1))?.location, p2);
  // With a newer seq the MAC leaves this host.
  assert.equal(fdb.setControl(m(1), peer, 6, false, 4), p2);
  assert.equal(fdb.lookup(m(1))?.location, peer);
});

test('the data path reports learns, moves and losses of local MACs as events', async () => {
  let clock = 0;
  const dp = new DataPath({ now: () => clock, agingTimer: false, agingMs: 1000 });
  dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } }]);
  const t1 = new FakeFrameDevice({ name: 't1' });
  const t2 = new FakeFrameDevice({ name: 't2' });
  dp.addPort({ name: 't1', mode: 'access', vni: 100 }, t1);
  dp.addPort({ name: 't2', mode: 'access', vni: 100 }, t2);
  const events: [string, unknown][] = [];
  for (const name of ['mac:local', 'mac:gone', 'mac:move'] as const) {
    dp.on(name, (e: DataPathEvents[typeof name]) => events.push([name, e]));
  }
  const vm = mac('02:00:00:00:00:aa');
  dp.injectFrame('t1', frame(0xffffffffffff, vm));
  dp.injectFrame('t1', frame(0xffffffffffff, vm));
  dp.injectFrame('t2', frame(0xffffffffffff, vm));
  clock = 1000;
  assert.equal(dp.expire(), 1);
  assert.deepEqual(events, [
    ['mac:local', { vni: 100, mac: vm, port: 't1', seq: 0 }],
    ['mac:local', { vni: 100, mac: vm, port: 't2', seq: 0 }],
    ['mac:move', { vni: 100, mac: vm, from: 't1', to: 't2' }],
    ['mac:gone', { vni: 100, mac: vm, port: 't2' }],
  ]);
  const c = dp.counters().fdb;
  assert.equal(c.learns, 1);
  assert.equal(c.moves, 1);
  assert.equal(c.aged, 1);
  assert.equal(c.size, 0);
});
