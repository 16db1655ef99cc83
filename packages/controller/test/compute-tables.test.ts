import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FdbEntryRecord, FloodListRecord, HostRecord, NetworkRecord, PortRecord, ReportRecord } from '@dvs/wire';
import { computeTables, DEFAULT_DAMPENING, type MacMobility, type TableOutputs } from '../src/tables/index.js';
import { ipConflictsOf } from '../src/tables/ip-conflicts.js';

const MAC = '02:00:00:00:00:01';

function host(name: string, address: string): HostRecord {
  return { host: name, vtep: { address, port: 4789 }, encaps: ['vxlan'], agentVersion: 't', startedAt: 0 };
}
function network(vni: number, externals: { address: string; port: number }[] = []): NetworkRecord {
  return {
    vni,
    name: `n${vni}`,
    encap: 'vxlan',
    mtu: 1450,
    floodMode: 'head-end',
    arpSuppression: false,
    externalVteps: externals.map((e) => ({ ...e, description: '' })),
    description: '',
    createdAt: 0,
    updatedAt: 0,
  };
}
function port(hostName: string, name: string, vni: number): PortRecord {
  return { host: hostName, port: name, mode: 'access', bindings: [{ vni, vlan: null }], state: 'up', macCount: 0 };
}
function report(hostName: string, seq: number, mac = MAC, vni = 100): ReportRecord {
  return { vni, mac, host: hostName, port: 'tap0', seq, ips: [], seenAt: 0 };
}

/** A little world the test evolves step by step, feeding each output back in as the next input. */
class World {
  hosts = new Map<string, HostRecord>([
    ['host-a', host('host-a', '192.0.2.10')],
    ['host-b', host('host-b', '192.0.2.9')],
    ['host-c', host('host-c', '192.0.2.30')],
  ]);
  networks = new Map<number, NetworkRecord>([[100, network(100)]]);
  ports: PortRecord[] = [port('host-a', 'tap0', 100), port('host-b', 'tap0', 100)];
  reports: ReportRecord[] = [];
  fdb = new Map<string, FdbEntryRecord>();
  flood = new Map<number, FloodListRecord>();
  mobility = new Map<string, MacMobility>();
  now = 1_000_000;
  dampening = DEFAULT_DAMPENING;

  step(advanceMs = 1000): TableOutputs {
    this.now += advanceMs;
    const out = computeTables({
      networks: this.networks,
      hosts: this.hosts,
      ports: this.ports,
      reports: this.reports,
      fdb: this.fdb,
      flood: this.flood,
      mobility: this.mobility,
      dampening: this.dampening,
      now: this.now,
    });
    this.fdb = out.fdb;
    this.flood = out.flood;
    this.mobility = out.mobility;
    return out;
  }

  /** The MAC is now reported only by `hostName`, with seq one above the table's (what an agent does). */
  moveTo(hostName: string, mac = MAC): void {
    const seq = (this.fdb.get(`100/${mac}`)?.seq ?? -1) + 1;
    this.reports = this.reports.filter((r) => r.mac !== mac);
    this.reports.push(report(hostName, seq, mac));
  }

  entry(mac = MAC): FdbEntryRecord | undefined {
    return this.fdb.get(`100/${mac}`);
  }
}

test('a reported MAC becomes an FDB entry at its host VTEP', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  assert.deepEqual(
    { host: w.entry()?.host, vtep: w.entry()?.vtep, seq: w.entry()?.seq, origin: w.entry()?.origin },
    { host: 'host-a', vtep: { address: '192.0.2.10', port: 4789 }, seq: 0, origin: 'report' },
  );
});

test('reports for unknown networks or from dead hosts are ignored', () => {
  const w = new World();
  w.reports = [report('host-a', 0, MAC, 999), report('host-gone', 5)];
  const out = w.step();
  assert.equal(out.fdb.size, 0);
});

test('highest seq wins; a move is recorded', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  w.moveTo('host-c');
  const out = w.step();
  assert.equal(w.entry()?.host, 'host-c');
  assert.equal(w.entry()?.seq, 1);
  assert.equal(w.entry()?.moves, 1);
  assert.deepEqual(out.moves, [{ vni: 100, mac: MAC, from: 'host-a', to: 'host-c', seq: 1, frozen: false }]);
});

test('a stale lower-seq report does not pull the MAC back', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  w.reports.push(report('host-c', 1)); // host-a has not withdrawn yet
  w.step();
  assert.equal(w.entry()?.host, 'host-c');
  w.step();
  assert.equal(w.entry()?.host, 'host-c');
});

test('race: equal seq goes to the lowest VTEP address (numeric, not text order), whatever the input order', () => {
  for (const order of [
    ['host-a', 'host-b'],
    ['host-b', 'host-a'],
  ]) {
    const w = new World();
    w.reports = order.map((h) => report(h, 3));
    w.step();
    // host-b is 192.0.2.9 < host-a 192.0.2.10 numerically ("192.0.2.10" < "192.0.2.9" as text)
    assert.equal(w.entry()?.host, 'host-b', `order ${order.join(',')}`);
  }
});

test('an unchanged entry keeps its updatedAt (no rewrite)', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  const first = w.entry();
  w.step(5000);
  assert.equal(w.entry(), first);
  assert.equal(w.flood.get(100)?.updatedAt, first?.updatedAt);
});

test('dampening: the 6th move within 180 s freezes the MAC at its last location as duplicate', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  const hosts = ['host-c', 'host-a', 'host-c', 'host-a', 'host-c'];
  for (const h of hosts) {
    w.moveTo(h);
    w.step(5000);
    assert.equal(w.entry()?.host, h);
    assert.equal(w.entry()?.duplicate, false);
  }
  assert.equal(w.entry()?.moves, 5);
  // 6th move, while host-c still claims the MAC (a real duplicate: both hosts see it).
  w.reports.push(report('host-a', w.entry()!.seq + 1));
  const out = w.step(5000);
  assert.equal(w.entry()?.host, 'host-c', 'frozen at the last location');
  assert.equal(w.entry()?.duplicate, true);
  assert.match(w.entry()!.reason, /duplicate: 6 moves in 180 s \(limit 5\), frozen at host-c/);
  assert.equal(out.moves.at(-1)?.frozen, true);
  // Further claims while the frozen host still claims do not unfreeze it.
  w.reports = [report('host-c', 7), report('host-a', 8)];
  w.step(5000);
  assert.equal(w.entry()?.host, 'host-c');
  assert.equal(w.entry()?.duplicate, true);
});

test('moves spread wider than the window never freeze', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  for (let i = 0; i < 12; i++) {
    w.moveTo(i % 2 === 0 ? 'host-c' : 'host-a');
    w.step(40_000);
    assert.equal(w.entry()?.duplicate, false, `move ${i + 1}`);
  }
  assert.ok(w.entry()!.moves <= 5);
});

test('a duplicate is released after a quiet window, to the current best claim', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  for (let i = 0; i < 6; i++) {
    w.moveTo(i % 2 === 0 ? 'host-c' : 'host-a');
    w.step(1000);
  }
  assert.equal(w.entry()?.duplicate, true);
  // Both hosts still claim (the frozen one and the newest); nothing new for a window.
  w.reports.push(report('host-c', 0));
  w.step(1000);
  w.step(DEFAULT_DAMPENING.windowMs);
  assert.equal(w.entry()?.duplicate, false);
  assert.equal(w.entry()?.host, 'host-a', 'highest seq wins after release');
});

test('a duplicate whose frozen host disappears follows the remaining claim, still duplicate', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  for (let i = 0; i < 6; i++) {
    w.moveTo(i % 2 === 0 ? 'host-c' : 'host-a');
    w.step(1000);
  }
  const frozenAt = w.entry()!.host!;
  assert.equal(w.entry()?.duplicate, true);
  w.hosts.delete(frozenAt);
  w.reports = w.reports.filter((r) => r.host !== frozenAt);
  if (w.reports.length === 0) w.reports.push(report(frozenAt === 'host-a' ? 'host-c' : 'host-a', 9));
  w.step(1000);
  assert.notEqual(w.entry()?.host, frozenAt, 'follows the remaining claim');
  assert.equal(w.entry()?.duplicate, true, 'and stays duplicate');
  assert.match(w.entry()!.reason, /frozen at host-/);
});

test('static entries win over reports and vanish with their network', () => {
  const w = new World();
  const staticEntry: FdbEntryRecord = {
    vni: 100,
    mac: MAC,
    host: null,
    vtep: { address: '203.0.113.5', port: 4789 },
    seq: 0,
    ips: [],
    origin: 'static',
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 1,
  };
  w.fdb.set(`100/${MAC}`, staticEntry);
  w.reports = [report('host-a', 7)];
  w.step();
  assert.equal(w.entry(), staticEntry);
  w.networks.delete(100);
  w.step();
  assert.equal(w.entry(), undefined);
});

test('host lease expiry removes its MACs and its flood list membership', () => {
  const w = new World();
  w.reports = [report('host-a', 0), report('host-b', 0, '02:00:00:00:00:02')];
  w.step();
  assert.equal(w.fdb.size, 2);
  assert.deepEqual(
    w.flood.get(100)?.members.map((m) => m.host),
    ['host-b', 'host-a'],
  );
  w.hosts.delete('host-a');
  w.reports = w.reports.filter((r) => r.host !== 'host-a');
  w.ports = w.ports.filter((p) => p.host !== 'host-a');
  w.step();
  assert.equal(w.entry(), undefined);
  assert.ok(w.entry('02:00:00:00:00:02'));
  assert.deepEqual(
    w.flood.get(100)?.members.map((m) => m.host),
    ['host-b'],
  );
});

test('flood list: hosts with a port or report in the VNI plus external VTEPs, sorted, no duplicates', () => {
  const w = new World();
  w.networks.set(100, network(100, [{ address: '203.0.113.1', port: 4789 }]));
  w.networks.set(200, network(200));
  w.ports.push(port('host-a', 'tap1', 100), port('host-c', 'tap0', 200));
  w.reports = [report('host-c', 0)]; // host-c has no port in 100 but reports a MAC there
  w.step();
  assert.deepEqual(w.flood.get(100)?.members, [
    { address: '192.0.2.9', port: 4789, host: 'host-b' },
    { address: '192.0.2.10', port: 4789, host: 'host-a' },
    { address: '192.0.2.30', port: 4789, host: 'host-c' },
    { address: '203.0.113.1', port: 4789, host: null },
  ]);
  assert.deepEqual(
    w.flood.get(200)?.members.map((m) => m.host),
    ['host-c'],
  );
  w.networks.delete(200);
  w.step();
  assert.equal(w.flood.has(200), false);
});

test('flood list: a port whose device is gone (state gone) does not put its host in', () => {
  const w = new World();
  w.ports = [port('host-a', 'tap0', 100), { ...port('host-b', 'vnet3', 100), state: 'gone', kind: 'attach' }];
  w.step();
  assert.deepEqual(
    w.flood.get(100)?.members.map((m) => m.host),
    ['host-a'],
  );
  w.ports[1] = { ...w.ports[1], state: 'up' };
  w.step();
  assert.deepEqual(
    w.flood.get(100)?.members.map((m) => m.host),
    ['host-b', 'host-a'],
  );
});

test('a gre-udp network points at each host\u2019s GRE-in-UDP port (default 4754, or the host\u2019s own)', () => {
  const w = new World();
  w.networks.set(100, { ...network(100), encap: 'gre-udp' });
  w.hosts.set('host-a', { ...host('host-a', '192.0.2.10'), encapPorts: { 'gre-udp': 14754 } });
  w.reports = [report('host-a', 0), report('host-b', 0, '02:00:00:00:00:02')];
  w.step();
  assert.deepEqual(w.entry()?.vtep, { address: '192.0.2.10', port: 14754 });
  assert.deepEqual(w.entry('02:00:00:00:00:02')?.vtep, { address: '192.0.2.9', port: 4754 });
  assert.deepEqual(
    w.flood.get(100)?.members.map((m) => m.port),
    [4754, 14754],
  );
});

test('migration with the old host withdrawing first: the gap keeps the history, moves still count and freeze', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  let seq = 0;
  for (let i = 1; i <= 6; i++) {
    const to = i % 2 === 1 ? 'host-c' : 'host-a';
    w.reports = []; // the old host let go before the new one reported
    const gap = w.step(100);
    assert.equal(w.entry(), undefined, 'no claim, no entry');
    assert.equal(gap.mobility.get(`100/${MAC}`)?.orphanedAt, w.now, 'history kept');
    w.reports = [report(to, ++seq)];
    w.step(100);
    assert.equal(w.entry()?.host, to);
    if (i < 6) {
      assert.equal(w.entry()?.moves, i, `move ${i}`);
      assert.equal(w.entry()?.duplicate, false);
    }
  }
  assert.equal(w.entry()?.duplicate, true, 'the 6th move freezes it');
  assert.equal(w.entry()?.host, 'host-a', 'frozen where it is: the old location no longer claims it');
  assert.match(w.entry()!.reason, /duplicate: 6 moves in 180 s \(limit 5\), frozen at host-a/);
});

test('an orphaned history expires after a window: a MAC coming back later starts afresh', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  w.moveTo('host-c');
  w.step();
  w.reports = [];
  w.step();
  w.step(DEFAULT_DAMPENING.windowMs);
  assert.equal(w.mobility.has(`100/${MAC}`), false);
  w.reports = [report('host-a', 5)];
  w.step();
  assert.equal(w.entry()?.moves, 0);
});

test('an entry removed by someone else (the API clear) starts a fresh history', () => {
  const w = new World();
  w.reports = [report('host-a', 0)];
  w.step();
  for (let i = 0; i < 6; i++) {
    w.moveTo(i % 2 === 0 ? 'host-c' : 'host-a');
    w.step(1000);
  }
  assert.equal(w.entry()?.duplicate, true);
  w.fdb.delete(`100/${MAC}`); // cleared through the API while reports remain
  w.step(1000);
  assert.equal(w.entry()?.duplicate, false);
  assert.equal(w.entry()?.moves, 0);
});

test('IP bindings travel with the FDB entry; an IP two MACs claim stays with the first', () => {
  const w = new World();
  const MAC_2 = '02:00:00:00:00:02';
  const MAC_0 = '02:00:00:00:00:00';
  w.reports = [{ ...report('host-a', 0), ips: ['203.0.113.1', '2001:db8::1'] }];
  w.step();
  assert.deepEqual(w.entry()?.ips, ['203.0.113.1', '2001:db8::1']);
  // host-b's MAC_2, then a lower MAC_0, claim 203.0.113.1: the holder keeps it, whatever the MAC order.
  w.reports.push({ ...report('host-b', 0, MAC_2), ips: ['203.0.113.1', '203.0.113.2'] });
  w.reports.push({ ...report('host-b', 0, MAC_0), ips: ['203.0.113.1'] });
  w.step();
  assert.deepEqual(w.entry()?.ips, ['203.0.113.1', '2001:db8::1'], 'the first keeps it');
  assert.deepEqual(w.entry(MAC_2)?.ips, ['203.0.113.2'], 'the claimant publishes without it');
  assert.deepEqual(w.entry(MAC_0)?.ips, []);
  assert.deepEqual(
    ipConflictsOf(w.fdb.values(), w.reports).map((c) => `${c.ip} ${c.mac} ${c.claimant} ${c.host}`),
    [`203.0.113.1 ${MAC} ${MAC_0} host-b`, `203.0.113.1 ${MAC} ${MAC_2} host-b`],
  );
  // The MAC migrates to host-c with its IPs (what the agent reports): nothing changes hands.
  w.moveTo('host-c');
  w.reports = w.reports.map((r) => (r.mac === MAC ? { ...r, ips: ['203.0.113.1', '2001:db8::1'] } : r));
  w.step();
  assert.equal(w.entry()?.host, 'host-c');
  assert.deepEqual(w.entry()?.ips, ['203.0.113.1', '2001:db8::1']);
  // The holder goes away: the IP passes to the lowest remaining claimant.
  w.reports = w.reports.filter((r) => r.mac !== MAC);
  w.step();
  assert.deepEqual(w.entry(MAC_0)?.ips, ['203.0.113.1']);
  assert.deepEqual(w.entry(MAC_2)?.ips, ['203.0.113.2']);
});
