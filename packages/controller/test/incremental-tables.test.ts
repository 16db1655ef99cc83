// The leader's incremental tables equal a full computation, after every
// round, for random sequences of what agents, operators and time do: hosts
// registering (sometimes sharing a VTEP, with labels), losing their lease
// (kept stale) and coming back, leaving cleanly, reports with any seq under
// any lease, port bindings, networks created, restricted and deleted, static
// entries, layout-1 keys, tunnel status naming a stale host down, and time
// passing (dampening windows, the stale grace period).
//
// Two ClusterViews take the same etcd events. One is computed incrementally
// (IncrementalTables), the other from scratch every round (fullTables, the
// reference); each round's writes go back into its own view, as the
// reconciler does. The FDB, the flood lists and the ignored records must be
// the same after every round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeFdbEntry,
  encodeFloodList,
  encodeHost,
  encodeNetwork,
  encodePort,
  encodeReport,
  encodeTunnelStatus,
  KeyLayout,
  type FdbEntryRecord,
  type NetworkRecord,
} from '@dvs/wire';
import { ClusterView } from '../src/view/cluster-view.js';
import { IncrementalTables } from '../src/leader/incremental-tables.js';
import { fullTables } from '../src/leader/full-tables.js';
import { ignoredId } from '../src/leader/ignored-records.js';
import { sameFdbEntry, sameFloodList, type MacMobility } from '../src/tables/index.js';

const keys = new KeyLayout();
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const VNIS = [100, 200];
const MACS = ['02:00:00:00:00:01', '02:00:00:00:00:02'];
const VTEPS = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.2'];
const DAMPENING = { maxMoves: 1, windowMs: 5000 };
const POLICY = { graceMs: 8000, probes: true, returnWindowMs: 3000 };

type Op =
  | { op: 'host'; h: number; newLease: boolean; vtep: number; label: boolean }
  | { op: 'lose'; h: number }
  | { op: 'leave'; h: number }
  /** `seq`: relative to the seq of the MAC's entry now (what an agent reports is about that). */
  | { op: 'report'; h: number; vni: number; mac: number; seq: number; lease: 'own' | 'other' | 'none' }
  | { op: 'withdraw'; h: number; vni: number; mac: number }
  | { op: 'port'; h: number; vnis: number[] }
  | { op: 'unport'; h: number }
  | { op: 'network'; vni: number; allow: 'all' | 'h1h2' | 'label'; encap: 'vxlan' | 'gre-udp' }
  | { op: 'unnetwork'; vni: number }
  | { op: 'static'; vni: number; mac: number; vtep: number }
  | { op: 'unstatic'; vni: number; mac: number }
  | { op: 'legacy'; h: number; mac: number; put: boolean }
  | { op: 'probe'; from: number; about: number; state: 'up' | 'down' }
  | { op: 'wait'; ms: number };

const host = fc.nat({ max: HOSTS.length - 1 });
const vni = fc.nat({ max: VNIS.length - 1 });
const mac = fc.nat({ max: MACS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('host' as const),
      h: host,
      newLease: fc.boolean(),
      vtep: fc.nat({ max: 3 }),
      label: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('lose' as const), h: host }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('leave' as const), h: host }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('report' as const),
      h: host,
      vni,
      mac,
      seq: fc.constantFrom(-1, 0, 1, 1, 1, 1, 3),
      lease: fc.constantFrom('own' as const, 'own' as const, 'own' as const, 'other' as const, 'none' as const),
    }),
    weight: 10,
  },
  { arbitrary: fc.record({ op: fc.constant('withdraw' as const), h: host, vni, mac }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('port' as const), h: host, vnis: fc.subarray([0, 1]) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('unport' as const), h: host }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('network' as const),
      vni,
      allow: fc.constantFrom('all' as const, 'all' as const, 'h1h2' as const, 'label' as const),
      encap: fc.constantFrom('vxlan' as const, 'gre-udp' as const),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('unnetwork' as const), vni }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('static' as const), vni, mac, vtep: fc.nat({ max: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('unstatic' as const), vni, mac }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('legacy' as const), h: host, mac, put: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('probe' as const),
      from: host,
      about: host,
      state: fc.constantFrom('up' as const, 'down' as const),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.constantFrom(100, 1000, 2500, 6000) }), weight: 3 },
);

function networkRecord(v: number, allow: 'all' | 'h1h2' | 'label', encap: 'vxlan' | 'gre-udp'): NetworkRecord {
  return {
    vni: v,
    name: `n${v}`,
    encap,
    mtu: 1450,
    floodMode: 'head-end',
    arpSuppression: false,
    externalVteps: v === 200 ? [{ address: '192.0.2.2', port: 4789, description: '' }] : [],
    ...(allow === 'h1h2' ? { allowedHosts: ['h1', 'h2'] } : {}),
    ...(allow === 'label' ? { allowedLabels: ['rack=r1'] } : {}),
    description: '',
    createdAt: 0,
    updatedAt: 0,
  };
}

/** The agents' and operators' side of etcd: what both views are fed. */
class World {
  revision = 1;
  now = 1_000_000;
  private nextLease = 100;
  readonly lease = new Map<string, string>();
  /** Live keys by host, with their lease, to expire them together. */
  private readonly owned = new Map<string, Map<string, string>>();
  readonly views: ClusterView[];

  constructor(count: number) {
    this.views = Array.from({ length: count }, () => {
      const view = new ClusterView(keys, () => this.now);
      view.stalePolicy = POLICY;
      return view;
    });
  }

  private put(key: string, value: Buffer, lease = '0', owner?: string): void {
    const rev = ++this.revision;
    for (const v of this.views) v.put({ key, value, modRevision: rev, createRevision: rev, lease });
    if (owner !== undefined) {
      let m = this.owned.get(owner);
      if (m === undefined) this.owned.set(owner, (m = new Map()));
      m.set(key, lease);
    }
  }

  private del(keysToDelete: string[], sameRevision = true): void {
    let rev = ++this.revision;
    for (const key of keysToDelete) {
      for (const v of this.views) v.delete(key, rev);
      for (const m of this.owned.values()) m.delete(key);
      if (!sameRevision) rev = ++this.revision;
    }
  }

  /** One watch response done. */
  flush(): void {
    for (const v of this.views) v.flush();
  }

  apply(o: Op): void {
    const h = HOSTS[(o as { h?: number }).h ?? 0]!;
    switch (o.op) {
      case 'host': {
        if (o.newLease || !this.lease.has(h)) this.lease.set(h, String(this.nextLease++));
        const record = {
          host: h,
          vtep: { address: VTEPS[o.vtep]!, port: 4789 },
          encaps: ['vxlan' as const, 'gre-udp' as const],
          ...(o.label ? { labels: { rack: 'r1' } } : {}),
          agentVersion: 't',
          startedAt: 0,
        };
        this.put(keys.host(h), encodeHost(record), this.lease.get(h), h);
        break;
      }
      case 'lose': // the lease expires: all its keys go at one revision
        this.del([...(this.owned.get(h)?.keys() ?? [])].filter((k) => this.owned.get(h)!.get(k) === this.lease.get(h)));
        break;
      case 'leave': {
        // A clean stop: reports and ports first, then the lease (the host key).
        const mine = [...(this.owned.get(h)?.keys() ?? [])];
        this.del(mine.filter((k) => k !== keys.host(h) && k !== keys.status(h)));
        this.del(mine.filter((k) => k === keys.host(h) || k === keys.status(h)));
        break;
      }
      case 'report': {
        const lease = o.lease === 'own' ? (this.lease.get(h) ?? '0') : o.lease === 'other' ? '7' : '0';
        const known = this.views[0]!.fdb.get(`${VNIS[o.vni]}/${MACS[o.mac]}`)?.record.seq ?? 0;
        const seq = Math.max(0, known + o.seq);
        const r = { vni: VNIS[o.vni]!, mac: MACS[o.mac]!, host: h, port: 'tap0', seq, ips: [], seenAt: 0 };
        this.put(keys.report(h, r.vni, r.mac), encodeReport(r), lease, h);
        break;
      }
      case 'withdraw':
        this.del([keys.report(h, VNIS[o.vni]!, MACS[o.mac]!)]);
        break;
      case 'port': {
        const bindings = o.vnis.map((i) => ({ vni: VNIS[i]!, vlan: o.vnis.length > 1 ? 10 + i : null }));
        if (bindings.length === 0) break;
        const record = {
          host: h,
          port: 'tap0',
          mode: bindings.length > 1 ? ('trunk' as const) : ('access' as const),
          bindings,
          state: 'up' as const,
          macCount: 0,
        };
        this.put(keys.port(h, 'tap0'), encodePort(record), this.lease.get(h) ?? '0', h);
        break;
      }
      case 'unport':
        this.del([keys.port(h, 'tap0')]);
        break;
      case 'network':
        this.put(keys.network(VNIS[o.vni]!), encodeNetwork(networkRecord(VNIS[o.vni]!, o.allow, o.encap)));
        break;
      case 'unnetwork':
        this.del([keys.network(VNIS[o.vni]!)]);
        break;
      case 'static': {
        const entry: FdbEntryRecord = {
          vni: VNIS[o.vni]!,
          mac: MACS[o.mac]!,
          host: null,
          vtep: { address: VTEPS[o.vtep]!, port: 4789 },
          seq: 0,
          ips: [],
          origin: 'static',
          moves: 0,
          duplicate: false,
          reason: '',
          updatedAt: this.now,
        };
        this.put(keys.fdb(entry.vni, entry.mac), encodeFdbEntry(entry));
        break;
      }
      case 'unstatic':
        // Only a static entry is the operator's to delete; a learned one stays the leader's.
        this.unstatic.push({ vni: VNIS[o.vni]!, mac: MACS[o.mac]! });
        break;
      case 'legacy': {
        const key = `${keys.section('report')}${VNIS[0]}/${MACS[o.mac]}/${h}`;
        if (o.put) this.put(key, Buffer.from([0x80]));
        else this.del([key]);
        break;
      }
      case 'probe': {
        const about = HOSTS[o.about]!;
        if (about === HOSTS[o.from]) break;
        const status = {
          host: HOSTS[o.from]!,
          peers: [
            {
              vtep: { address: VTEPS[o.about]!, port: 4789 },
              host: about,
              encap: 'vxlan' as const,
              state: o.state,
              rtt: null,
              lossPct: 0,
              lastChange: this.now,
              reason: 'test',
              rxPackets: 0,
              txPackets: 0,
              rxBytes: 0,
              txBytes: 0,
            },
          ],
          updatedAt: this.now,
        };
        if (this.lease.has(HOSTS[o.from]!))
          this.put(
            keys.status(HOSTS[o.from]!),
            encodeTunnelStatus(status),
            this.lease.get(HOSTS[o.from]!),
            HOSTS[o.from]!,
          );
        break;
      }
      case 'wait':
        this.now += o.ms;
        break;
    }
    this.flush();
  }

  /** Static entries the operator deletes, resolved against each view (they may differ only if the tables do). */
  unstatic: { vni: number; mac: string }[] = [];

  applyUnstatic(): void {
    for (const { vni: v, mac: m } of this.unstatic.splice(0)) {
      const key = keys.fdb(v, m);
      if (this.views.every((view) => view.fdb.get(`${v}/${m}`)?.record.origin === 'static')) this.del([key]);
    }
    this.flush();
  }
}

let writeRevision = 1_000_000_000;

function roundIncremental(view: ClusterView, tables: IncrementalTables, now: number): void {
  view.expireStale(now);
  tables.touchTimeDependent(now);
  const plan = tables.plan(now);
  for (const w of plan.fdb) {
    const r = (w.desired ?? w.current!.record)!;
    view.applyOwnWrite(keys.fdb(r.vni, r.mac), w.desired === null ? null : encodeFdbEntry(w.desired), ++writeRevision);
  }
  for (const w of plan.flood)
    view.applyOwnWrite(keys.flood(w.vni), w.desired === null ? null : encodeFloodList(w.desired), ++writeRevision);
  tables.commit(plan, new Set());
}

function roundFull(view: ClusterView, state: { mobility: Map<string, MacMobility> }, now: number): string[] {
  view.expireStale(now);
  const out = fullTables(view, state.mobility, DAMPENING, now);
  for (const [key, desired] of out.fdb) {
    const current = view.fdb.get(key);
    if (current !== undefined && sameFdbEntry(current.record, desired)) continue;
    view.applyOwnWrite(keys.fdb(desired.vni, desired.mac), encodeFdbEntry(desired), ++writeRevision);
  }
  for (const [key, current] of [...view.fdb]) {
    if (!out.fdb.has(key)) view.applyOwnWrite(keys.fdb(current.record.vni, current.record.mac), null, ++writeRevision);
  }
  for (const [v, desired] of out.flood) {
    const current = view.flood.get(v);
    if (current !== undefined && sameFloodList(current.record, desired)) continue;
    view.applyOwnWrite(keys.flood(v), encodeFloodList(desired), ++writeRevision);
  }
  for (const v of [...view.flood.keys()])
    if (!out.flood.has(v)) view.applyOwnWrite(keys.flood(v), null, ++writeRevision);
  state.mobility = out.mobility;
  return out.admitted.ignored.map((r) => `${ignoredId(r)}|${r.reason}|${r.modRevision}`).sort();
}

/** Every sequence starts from a small running cluster: two networks, three hosts with ports in them. */
const PRELUDE: Op[] = [
  { op: 'network', vni: 0, allow: 'all', encap: 'vxlan' },
  { op: 'network', vni: 1, allow: 'all', encap: 'vxlan' },
  ...[0, 1, 2].flatMap((h): Op[] => [
    { op: 'host', h, newLease: true, vtep: h, label: h === 0 },
    { op: 'port', h, vnis: h === 2 ? [0, 1] : [h] },
  ]),
];

function tablesOf(view: ClusterView): { fdb: unknown; flood: unknown } {
  return {
    fdb: [...view.fdb].map(([k, v]) => [k, v.record]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    flood: [...view.flood].map(([k, v]) => [k, v.record]).sort((a, b) => Number(a[0]) - Number(b[0])),
  };
}

test('incremental tables equal the full computation after every round, for random change sequences', () => {
  fc.assert(
    fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 60 }), (steps) => {
      const world = new World(2);
      const [incView, fullView] = world.views as [ClusterView, ClusterView];
      const tables = new IncrementalTables(incView, DAMPENING);
      incView.changeListener = (c) => tables.note(c);
      const full = { mobility: new Map<string, MacMobility>() };
      for (const step of [PRELUDE, ...steps]) {
        for (const o of step) world.apply(o);
        world.applyUnstatic();
        roundIncremental(incView, tables, world.now);
        const ignoredFull = roundFull(fullView, full, world.now);
        assert.deepEqual(tablesOf(incView), tablesOf(fullView));
        const ignoredInc = tables.ignored
          .list()
          .map((r) => `${ignoredId(r)}|${r.reason}|${r.modRevision}`)
          .sort();
        assert.deepEqual(ignoredInc, ignoredFull);
        assert.deepEqual(
          [...incView.stale.keys()].sort(),
          [...fullView.stale.keys()].sort(),
          'both views keep the same stale hosts',
        );
      }
    }),
    { numRuns: 300 },
  );
});

test('incremental rounds compute only what changed: one report of 2,000 MACs computes one MAC', () => {
  const world = new World(1);
  const [view] = world.views as [ClusterView];
  const tables = new IncrementalTables(view, DAMPENING);
  view.changeListener = (c) => tables.note(c);
  world.apply({ op: 'network', vni: 0, allow: 'all', encap: 'vxlan' });
  world.apply({ op: 'host', h: 0, newLease: true, vtep: 0, label: false });
  for (let i = 0; i < 2000; i++) {
    const m = `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    const r = { vni: 100, mac: m, host: 'h1', port: 'tap0', seq: 0, ips: [], seenAt: 0 };
    for (const v of world.views)
      v.put({
        key: keys.report('h1', 100, m),
        value: encodeReport(r),
        modRevision: ++world.revision,
        createRevision: world.revision,
        lease: world.lease.get('h1')!,
      });
  }
  roundIncremental(view, tables, world.now);
  assert.equal(view.fdb.size, 2000);
  roundIncremental(view, tables, world.now); // what the first round wrote, checked once more
  world.apply({ op: 'report', h: 0, vni: 0, mac: 0, seq: 1, lease: 'own' });
  const plan = tables.plan(world.now);
  assert.equal(plan.computed.macs, 1, 'one MAC computed');
  assert.equal(plan.fdb.length, 1);
  assert.equal(plan.fdb[0]!.desired?.seq, 1);
});
