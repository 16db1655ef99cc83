// The controller's checks on what hosts write (tables/admission.ts), as a
// pure function: lease, VNI membership, seq jumps, layout-1 keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FdbEntryRecord, HostRecord, NetworkRecord, PortRecord, ReportRecord } from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import {
  admit,
  type AdmissionInputs,
  type IgnoredRecord,
  type LiveHost,
  type MacMobility,
} from '../src/tables/index.js';
import { describeIgnored, groupIgnored, ignoredId, IgnoredRecords } from '../src/leader/ignored-records.js';

const MAC = '02:00:00:00:00:01';

function live(name: string, lease: string, labels?: Record<string, string>, pastLeases: string[] = []): LiveHost {
  const record: HostRecord = {
    host: name,
    vtep: { address: '192.0.2.1', port: 4789 },
    encaps: ['vxlan'],
    ...(labels ? { labels } : {}),
    agentVersion: 't',
    startedAt: 0,
  };
  return { record, lease, pastLeases };
}
function network(vni: number, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return sampleNetwork(vni, { name: `n${vni}`, ...extra });
}
function report(host: string, seq: number, lease: string, vni = 100, mac = MAC, modRevision = 10) {
  const record: ReportRecord = { vni, mac, host, port: 'tap0', seq, ips: [], seenAt: 0 };
  return { key: `/dvs/v1/reports/${host}/${vni}/${mac}`, record, modRevision, lease };
}
function port(host: string, lease: string, bindings: PortRecord['bindings']) {
  const record: PortRecord = {
    host,
    port: 'tap0',
    mode: bindings.length === 1 && bindings[0]!.vlan === null ? 'access' : 'trunk',
    bindings,
    state: 'up',
    macCount: 0,
  };
  return { key: `/dvs/v1/ports/${host}/tap0`, record, modRevision: 5, lease };
}
function entry(host: string, seq: number, origin: 'report' | 'static' = 'report'): FdbEntryRecord {
  return {
    vni: 100,
    mac: MAC,
    host,
    vtep: { address: '192.0.2.1', port: 4789 },
    seq,
    ips: [],
    origin,
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 0,
  };
}
function inputs(extra: Partial<AdmissionInputs>): AdmissionInputs {
  return {
    hosts: new Map([
      ['h1', live('h1', '101')],
      ['h2', live('h2', '202', { zone: 'pci' }, ['201'])],
    ]),
    networks: new Map([[100, network(100)]]),
    ports: [],
    reports: [],
    legacyReports: [],
    fdb: new Map(),
    mobility: new Map(),
    ...extra,
  };
}

test("a report counts only under its host's live lease: earlier leases are stale, others foreign", () => {
  const out = admit(
    inputs({
      reports: [
        report('h1', 0, '101'),
        report('h2', 0, '201', 100, '02:00:00:00:00:02'),
        report('h2', 0, '999', 100, '02:00:00:00:00:03'),
        report('h2', 0, '0', 100, '02:00:00:00:00:04'),
      ],
    }),
  );
  assert.deepEqual(
    out.reports.map((r) => `${r.host} ${r.mac}`),
    [`h1 ${MAC}`],
  );
  assert.deepEqual(
    out.ignored.map((i) => [i.mac, i.reason]),
    [
      ['02:00:00:00:00:02', 'stale-lease'],
      ['02:00:00:00:00:03', 'foreign-lease'],
      ['02:00:00:00:00:04', 'foreign-lease'],
    ],
  );
  assert.match(out.ignored[1]!.detail, /lease 999, not the host's 202/);
  assert.match(out.ignored[2]!.detail, /on no lease/);
});

test('a report more than one above the seq the controller knows is ignored: 0xffffffff cannot pin a MAC', () => {
  const at = (seq: number) => new Map([[`100/${MAC}`, entry('h1', seq)]]);
  const pinned = admit(inputs({ fdb: at(3), reports: [report('h1', 3, '101'), report('h2', 0xffffffff, '202')] }));
  assert.deepEqual(
    pinned.reports.map((r) => r.host),
    ['h1'],
  );
  assert.equal(pinned.ignored[0]!.reason, 'seq-jump');
  assert.match(pinned.ignored[0]!.detail, /seq 4294967295, at most 4 accepted/);
  // seq + 1 is a move, and stands.
  assert.equal(admit(inputs({ fdb: at(3), reports: [report('h2', 4, '202')] })).reports.length, 1);
  // No entry, nothing remembered: a MAC nobody knows starts at 0, so 1 is the most.
  assert.equal(admit(inputs({ reports: [report('h2', 1, '202')] })).reports.length, 1);
  assert.equal(admit(inputs({ reports: [report('h2', 2, '202')] })).ignored[0]?.reason, 'seq-jump');
  // The entry went a moment ago (a migration's gap): the leader's memory of it is the base.
  const remembered = new Map<string, MacMobility>([
    [
      `100/${MAC}`,
      { moveTimes: [], lastClaim: { host: 'h1', seq: 6 }, lastAttemptAt: 0, orphanedAt: 1, duplicate: false },
    ],
  ]);
  assert.equal(admit(inputs({ mobility: remembered, reports: [report('h2', 7, '202')] })).reports.length, 1);
  assert.equal(admit(inputs({ mobility: remembered, reports: [report('h2', 8, '202')] })).reports.length, 0);
  // A static entry ignores every report anyway (the tables' rule), so no seq is judged against it.
  const onStatic = admit(
    inputs({ fdb: new Map([[`100/${MAC}`, entry('h1', 0, 'static')]]), reports: [report('h2', 9, '202')] }),
  );
  assert.deepEqual(onStatic.ignored, []);
});

test('a network with allowed hosts or labels admits only those, per port binding', () => {
  const networks = new Map([
    [100, network(100)],
    [200, network(200, { allowedHosts: ['h1'] })],
    [300, network(300, { allowedLabels: ['zone=pci'] })],
  ]);
  const out = admit(
    inputs({
      networks,
      reports: [report('h2', 0, '202', 200), report('h1', 0, '101', 300), report('h2', 0, '202', 300)],
      ports: [
        port('h2', '202', [
          { vni: 100, vlan: 10 },
          { vni: 200, vlan: 20 },
          { vni: 300, vlan: 30 },
        ]),
        port('h1', '101', [{ vni: 300, vlan: null }]),
      ],
    }),
  );
  assert.deepEqual(
    out.reports.map((r) => `${r.host}@${r.vni}`),
    ['h2@300'],
  );
  assert.deepEqual(
    out.ports.map((p) => `${p.host}:${p.bindings.map((b) => b.vni).join(',')}`),
    ['h2:100,300'],
    'the trunk keeps its allowed VNIs; h1 has no label zone=pci, so its only binding goes',
  );
  assert.deepEqual(out.ignored.map((i) => `${i.kind} ${i.host}@${i.vni} ${i.reason}`).sort(), [
    'port h1@300 not-allowed',
    'port h2@200 not-allowed',
    'report h1@300 not-allowed',
    'report h2@200 not-allowed',
  ]);
});

test('layout-1 keys are ignored as old-layout; records of hosts that left are dropped silently', () => {
  const out = admit(
    inputs({
      reports: [report('gone', 0, '7')],
      ports: [port('gone', '7', [{ vni: 100, vlan: null }])],
      legacyReports: [{ key: `/dvs/v1/reports/100/${MAC}/h1`, modRevision: 3, host: 'h1', vni: 100, mac: MAC }],
    }),
  );
  assert.deepEqual(out.reports, []);
  assert.deepEqual(out.ports, []);
  assert.deepEqual(
    out.ignored.map((i) => [i.host, i.reason]),
    [['h1', 'old-layout']],
  );
});

test('ignored records are counted once per version, and grouped per host for people', () => {
  const tracker = new IgnoredRecords();
  // As the leader's tables do: each record set (or cleared) by its identity.
  const update = (list: readonly IgnoredRecord[]): IgnoredRecord[] => {
    const ids = new Set(list.map(ignoredId));
    for (const r of tracker.list()) if (!ids.has(ignoredId(r))) tracker.set(ignoredId(r), null);
    return list.filter((r) => tracker.set(ignoredId(r), r));
  };
  const first = admit(
    inputs({ reports: [report('h2', 0xffffffff, '202'), report('h2', 0, '201', 100, '02:00:00:00:00:09')] }),
  );
  assert.equal(update(first.ignored).length, 2);
  assert.equal(update(first.ignored).length, 0, 'the same records again: nothing new');
  assert.equal(tracker.totals.report['seq-jump'], 1);
  assert.equal(tracker.totals.report['stale-lease'], 1);
  const rewritten = admit(inputs({ reports: [report('h2', 0xfffffffe, '202', 100, MAC, 11)] }));
  assert.equal(update(rewritten.ignored).length, 1, 'a new version counts again');
  assert.equal(tracker.totals.report['seq-jump'], 2);
  assert.equal(tracker.list().length, 1, 'the stale leftover went');
  const groups = groupIgnored(first.ignored);
  assert.equal(groups.length, 1, 'stale leftovers of a restart are not a problem');
  assert.match(
    describeIgnored(groups[0]!),
    /^h2: 1 MAC report ignored \(seq-jump: .*\), e\.g\. 02:00:00:00:00:01 in VNI 100: seq 4294967295/,
  );
});
