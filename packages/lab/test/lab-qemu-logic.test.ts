// The logic around real QEMU VMs in the lab that runs without QEMU: where
// they are placed, the spec rules, their routes, flood-list expectations,
// the ping-loss split around QEMU's pause, and the series report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pingLossAcrossPause, type ContinuousPing, type PingReply } from '../src/continuous-ping.js';
import { guestRouteCommands, qemuVmPlacement } from '../src/lab-qemu.js';
import { validateLabSpec, type LabSpec } from '../src/lab-spec.js';
import { devices } from '../src/lab-layout.js';
import { isLabError } from '../src/errors.js';
import { newLabState, type QemuVmState } from '../src/lab-state.js';
import { expectedFloodLists } from '../src/table-readiness.js';
import type { MigrationReport } from '../src/migration.js';
import { renderQemuMigrationSeries, summarizeQemuMigrations } from '../src/qemu-migration-report.js';
import { renderMigrationReport } from '../src/migration-report.js';

test('QEMU VMs: each dvs host in turn takes one per network', () => {
  const two = [1, 2, 3, 4, 5].map((k) => qemuVmPlacement(k, 3, 2));
  assert.deepEqual(two, [
    { host: 0, network: 0 },
    { host: 0, network: 1 },
    { host: 1, network: 0 },
    { host: 1, network: 1 },
    { host: 2, network: 0 },
  ]);
  // One network: one VM per host, round the hosts.
  assert.deepEqual(
    [1, 2, 3, 4].map((k) => qemuVmPlacement(k, 3, 1).host),
    [0, 1, 2, 0],
  );
  assert.throws(
    () => qemuVmPlacement(0, 3, 1),
    (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC'),
  );
  assert.throws(
    () => qemuVmPlacement(1, 0, 1),
    (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC'),
  );
});

test('--qemu-vms: a whole number, needs a dvs host, counts towards the VM limit', () => {
  const spec = (o: Partial<LabSpec>): LabSpec => ({
    hosts: 2,
    vmsPerHost: 1,
    kernelHosts: 0,
    networks: [{ vni: 100, encap: 'vxlan' }],
    ...o,
  });
  const bad = (s: LabSpec, re: RegExp) =>
    assert.throws(
      () => validateLabSpec(s),
      (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC') && re.test(e.message),
    );
  bad(spec({ qemuVms: -1 }), /--qemu-vms must be 0 or more/);
  bad(spec({ qemuVms: 1.5 }), /--qemu-vms must be 0 or more/);
  bad(spec({ hosts: 0, kernelHosts: 1, qemuVms: 1 }), /--qemu-vms needs a dvs host/);
  bad(spec({ hosts: 2, vmsPerHost: 100, qemuVms: 1 }), /at most 200 VMs .*namespace and QEMU VMs together/);
  validateLabSpec(spec({ qemuVms: 4 }));
});

test("a QEMU VM's TAP name fits IFNAMSIZ and carries the lab prefix and its generation", () => {
  const tap = devices.qemuTap('ab12', 200, 99);
  assert.ok(tap.length <= 15, tap);
  assert.ok(tap.startsWith('dvlab12'), tap);
  assert.notEqual(devices.qemuTap('ab12', 1, 0), devices.qemuTap('ab12', 1, 1));
  assert.notEqual(devices.qemuTap('ab12', 1, 0), devices.vmTap('ab12', 1, 0));
});

test('a guest gets on-link routes to the other lab subnets, not its own', () => {
  assert.deepEqual(guestRouteCommands({ address: '192.0.2.14', prefixLength: 24 }), [
    'ip route add 203.0.113.0/24 dev eth0',
  ]);
  assert.deepEqual(guestRouteCommands({ address: '203.0.113.20', prefixLength: 24 }), [
    'ip route add 192.0.2.0/24 dev eth0',
  ]);
});

test('a dvs host whose only VM of a VNI is a QEMU VM is a flood-list member of that VNI', () => {
  const s = newLabState('ab12');
  s.networks = [{ index: 0, vni: 100, name: 'a', encap: 'vxlan', subnet: '192.0.2.0/24' }];
  s.hosts = [
    { name: 'h1', kind: 'dvs', netns: 'n1', underlayAddress: '198.51.100.11' },
    { name: 'h2', kind: 'dvs', netns: 'n2', underlayAddress: '198.51.100.12' },
  ];
  s.vms = [];
  s.qemuVms = [{ name: 'qvm1', host: 'h2', vni: 100 } as QemuVmState];
  const e = expectedFloodLists(s);
  assert.deepEqual(e.get('h1/100'), ['198.51.100.12']);
  assert.deepEqual(e.get('h2/100'), []);
});

function fakePing(replies: PingReply[], overdue: [number, number][] = []): ContinuousPing {
  return { replies, duplicateTimes: [], overdue: new Map(overdue), intervalMs: 10 } as unknown as ContinuousPing;
}

test('ping losses split: requests that met the paused VM, and the others', () => {
  // One request every 10 ms from t=1000, RTT 2 ms (one way 1 ms). Paused 1100..1150:
  // seqs 10..14 (sent 1100..1140, reaching the VM at 1101..1141) meet the pause;
  // 15 and 16 (sent 1150, 1160: reaching at 1151, 1161) are lost after the resume.
  const answered = [...Array(10).keys(), 17, 18, 19].map((seq) => ({ seq, atMs: 1000 + seq * 10 + 2, rttMs: 2 }));
  const overdue: [number, number][] = [10, 11, 12, 13, 14, 15, 16].map((seq) => [seq, 1000 + seq * 10 + 10]);
  const split = pingLossAcrossPause(fakePing(answered, overdue), 1000, 2000, 1100, 1150);
  assert.equal(split.oneWayMs, 1);
  assert.deepEqual(
    { sent: split.sent, lost: split.lost, during: split.lostDuringPause, beyond: split.lostBeyondPause },
    { sent: 20, lost: 7, during: 5, beyond: 2 },
  );
  // A request ping never reported overdue is placed by counting on from the one before it.
  const withoutReport = pingLossAcrossPause(fakePing(answered, overdue.slice(0, 5)), 1000, 2000, 1100, 1150);
  assert.deepEqual([withoutReport.lostDuringPause, withoutReport.lostBeyondPause], [5, 2]);
  // Nothing at all: zeros, not NaN.
  assert.deepEqual(pingLossAcrossPause(fakePing([]), 0, 1, 0, 1), {
    sent: 0,
    lost: 0,
    lostDuringPause: 0,
    lostBeyondPause: 0,
    oneWayMs: 0,
  });
});

function qemuReport(i: number, o: { downtimeMs: number; lost: number; beyond: number; converged: number | null }) {
  return {
    vm: 'qvm1',
    mac: '02:00:00:00:00:01',
    vni: 100,
    from: i % 2 ? 'h2' : 'h1',
    to: i % 2 ? 'h1' : 'h2',
    switchoverAt: 0,
    announce: "QEMU's own",
    announceRounds: 0,
    observers: [{ name: 'h1', kind: 'agent', convergedMs: o.converged, flaps: 0, final: 'h2', errors: 0 }],
    agentsConvergedMs: o.converged,
    controllerConvergedMs: o.converged,
    flaps: 0,
    oldHostHoldsMac: false,
    ping: {
      lost: o.lost,
      longestGapMs: 100,
      longestGapAtMs: -50,
      duplicates: 0,
      received: 100,
      baselineGapMs: 20,
      lostDuringDowntime: o.lost - o.beyond,
      lostBeyondDowntime: o.beyond,
    },
    qemu: {
      downtimeMs: o.downtimeMs,
      totalTimeMs: 900,
      setupTimeMs: 5,
      transferredBytes: 90 << 20,
      pausedAtMs: 0,
      resumedAtMs: 150,
      pausedMs: 150,
      sourcePortState: 'gone',
      allConvergedMs: o.converged,
    },
    notes: [],
  } satisfies MigrationReport;
}

test('the QEMU series: per-move rows and medians of downtime, losses beyond it, convergence', () => {
  const reports = [
    qemuReport(0, { downtimeMs: 100, lost: 10, beyond: 0, converged: 40 }),
    qemuReport(1, { downtimeMs: 300, lost: 20, beyond: 2, converged: 200 }),
    qemuReport(2, { downtimeMs: 200, lost: 15, beyond: 1, converged: null }),
  ];
  const s = summarizeQemuMigrations(reports);
  assert.deepEqual(
    [s.moves, s.medianDowntimeMs, s.medianLost, s.medianLostBeyond, s.medianConvergedMs, s.neverConverged],
    [3, 200, 15, 1, 120, 1],
  );
  const text = renderQemuMigrationSeries(reports);
  assert.match(text, /lost beyond the downtime 1\.0 {3}\[<= 1\]/);
  assert.match(text, /\n +3 +qvm1 +h1->h2 +200 +150 +15 +1 +100\.0 +never +0 +0\n/);
  const one = renderMigrationReport(reports[1]);
  assert.match(one, /pings lost: +20 = 18 during QEMU's downtime .* \+ 2 beyond it/);
  assert.match(one, /QEMU downtime: +300 ms \(query-migrate\); paused 150 ms/);
  assert.match(one, /source port on h2: +gone once QEMU quit/);
});
