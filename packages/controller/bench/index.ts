/**
 * Control-plane benchmarks (run: `npm run bench -w @dvs/controller`).
 *
 *  1. MAC change → 50 simulated agents: an agent's report lands in etcd, the
 *     leader decides, every one of 50 watchers sees the new FDB entry.
 *     Baseline in the same run: the same 50 watchers seeing a direct put of
 *     an FDB entry (etcd's own fan-out, no controller in the path).
 *  2. Tables for 10k MACs: the pure computation (50 hosts, 10k reports), the
 *     controller's checks on those reports (admission) against it, and
 *     end to end (10k reports in etcd → 10k FDB entries written by the
 *     leader), against a baseline of writing 10k keys straight to etcd.
 * Numbers are printed, not asserted; ratios are against the baselines above.
 */
import {
  encodeFdbEntry,
  encodeHost,
  encodePort,
  encodeReport,
  KeyLayout,
  formatMac,
  type FdbEntryRecord,
  type FloodListRecord,
  type HostRecord,
  type NetworkRecord,
  type PortRecord,
  type ReportRecord,
} from '@dvs/wire';
import { sampleFdbEntry, sampleNetwork } from '@dvs/wire/testing';
import { Etcd3, type Lease } from 'etcd3';
import { Controller } from '../src/index.js';
import { admit, computeTables, DEFAULT_DAMPENING, type MacMobility } from '../src/tables/index.js';
import { EtcdServer } from '@dvs/etcd/testing';
import { FdbWatchers, percentile } from './fdb-watchers.js';

const WATCHERS = 50;
const CHANGES = 30;
const MACS = 10_000;
const HOSTS = 50;
const VNI = 100;

function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}

function hostRecord(i: number): HostRecord {
  return {
    host: `host-${i}`,
    vtep: { address: `198.51.100.${i + 1}`, port: 4789 },
    encaps: ['vxlan'],
    agentVersion: 'bench',
    startedAt: 0,
  };
}

function report(mac: string, hostIndex: number, seq: number): ReportRecord {
  return { vni: VNI, mac, host: `host-${hostIndex}`, port: 'tap0', seq, ips: [], seenAt: Date.now() };
}

/** Puts every entry on `lease` (reports count only under their host's lease), `concurrency` at a time. */
async function putAll(lease: Lease, entries: [string, Buffer][], concurrency = 64): Promise<void> {
  for (let i = 0; i < entries.length; i += concurrency) {
    await Promise.all(entries.slice(i, i + concurrency).map(([k, v]) => lease.put(k).value(v).exec()));
  }
}

function pureComputation(): void {
  const hosts = new Map(Array.from({ length: HOSTS }, (_, i) => [`host-${i}`, hostRecord(i)]));
  const networks = new Map<number, NetworkRecord>([[VNI, sampleNetwork(VNI, { name: 'bench' })]]);
  const ports: PortRecord[] = [...hosts.keys()].map((h) => ({
    host: h,
    port: 'tap0',
    mode: 'access',
    bindings: [{ vni: VNI, vlan: null }],
    state: 'up',
    macCount: MACS / HOSTS,
  }));
  const reports = Array.from({ length: MACS }, (_, i) => report(formatMac(0x020000000000 + i), i % HOSTS, 0));
  const input = (
    fdb: Map<string, FdbEntryRecord>,
    flood: Map<number, FloodListRecord>,
    mobility: Map<string, MacMobility>,
    now: number,
  ) => ({ networks, hosts, ports, reports, fdb, flood, mobility, dampening: DEFAULT_DAMPENING, now });
  const empty = (): [Map<string, FdbEntryRecord>, Map<number, FloodListRecord>, Map<string, MacMobility>] => [
    new Map(),
    new Map(),
    new Map(),
  ];
  // Warm the JIT, then time 15 rounds of each: every entry new, and nothing changed.
  let out = computeTables(input(...empty(), 1));
  for (let r = 0; r < 5; r++) {
    computeTables(input(...empty(), 1));
    out = computeTables(input(out.fdb, out.flood, out.mobility, 2));
  }
  const coldRuns: number[] = [];
  const warmRuns: number[] = [];
  for (let r = 0; r < 15; r++) {
    let t = performance.now();
    computeTables(input(...empty(), 3));
    coldRuns.push(performance.now() - t);
    t = performance.now();
    out = computeTables(input(out.fdb, out.flood, out.mobility, 4 + r));
    warmRuns.push(performance.now() - t);
  }
  const coldMs = percentile(coldRuns, 50);
  const warmMs = percentile(warmRuns, 50);
  // The checks the leader runs before each computation, on the same 10k reports (all admitted).
  const admission = {
    hosts: new Map([...hosts].map(([id, record]) => [id, { record, lease: '1', pastLeases: [] }])),
    networks,
    ports: ports.map((record) => ({ key: record.host, record, modRevision: 1, lease: '1' })),
    reports: reports.map((record) => ({ key: record.mac, record, modRevision: 1, lease: '1' })),
    legacyReports: [],
    fdb: out.fdb,
    mobility: out.mobility,
  };
  const admitRuns: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t = performance.now();
    if (admit(admission).reports.length !== MACS) throw new Error('admission left reports out');
    admitRuns.push(performance.now() - t);
  }
  const admitMs = percentile(admitRuns.slice(5), 50);
  let bytes = 0;
  for (const e of out.fdb.values()) bytes += encodeFdbEntry(e).length;
  console.log(`tables (pure): ${MACS} MACs on ${HOSTS} hosts`);
  console.log(
    `  full computation, every entry new:   median ${ms(coldMs)} (${Math.round(MACS / (coldMs / 1000))} MACs/s)`,
  );
  console.log(
    `  full computation, nothing changed:   median ${ms(warmMs)} (${Math.round(MACS / (warmMs / 1000))} MACs/s)`,
  );
  console.log(
    `  admission checks (lease, membership, seq): median ${ms(admitMs)} (${(admitMs / warmMs).toFixed(2)}× the unchanged computation)`,
  );
  console.log(
    `  FDB size: ${out.fdb.size} entries, ${bytes} bytes of values (${(bytes / out.fdb.size).toFixed(1)} B/entry)`,
  );
}

async function main(): Promise<void> {
  pureComputation();

  const etcd = await EtcdServer.start();
  const keys = new KeyLayout();
  const client = new Etcd3({ hosts: etcd.endpoint });
  let controller: Controller | null = null;
  let watchers: FdbWatchers | null = null;
  try {
    controller = await Controller.start({
      id: 'bench',
      etcd: { endpoints: [etcd.endpoint] },
      listen: '127.0.0.1:0',
      api: { insecureLocal: true },
      electionTtlSeconds: 5,
      dampening: { maxMoves: 1_000_000, windowMs: 180_000 },
    });
    for (let i = 0; i < 100 && !controller.isLeader; i++) await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${controller.address}/v1/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vni: VNI, name: 'bench' }),
    });
    if (res.status !== 201) throw new Error(`network create: ${res.status}`);
    const lease = client.lease(60);
    const hostPuts: [string, Buffer][] = [];
    for (let i = 0; i < HOSTS; i++) {
      hostPuts.push([keys.host(`host-${i}`), encodeHost(hostRecord(i))]);
      hostPuts.push([
        keys.port(`host-${i}`, 'tap0'),
        encodePort({
          host: `host-${i}`,
          port: 'tap0',
          mode: 'access',
          bindings: [{ vni: VNI, vlan: null }],
          state: 'up',
          macCount: 0,
        }),
      ]);
    }
    for (const [k, v] of hostPuts) await lease.put(k).value(v);

    watchers = await FdbWatchers.start(etcd.endpoint, keys, WATCHERS);

    // 1. Baseline: a direct FDB put reaching 50 watchers.
    const baseline: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const mac = formatMac(0x02aa00000000 + i);
      const seen = watchers.expect(mac, 'direct');
      const entry: FdbEntryRecord = sampleFdbEntry({
        vni: 4242,
        mac,
        host: 'direct',
        vtep: { address: '198.51.100.200', port: 4789 },
        updatedAt: Date.now(),
      });
      await client.put(keys.fdb(4242, mac)).value(encodeFdbEntry(entry));
      baseline.push(await seen);
    }
    // MAC moves through the controller: report seq+1 from another host.
    const moved: number[] = [];
    const mac = formatMac(0x02bb00000001);
    await lease.put(keys.report('host-0', VNI, mac)).value(encodeReport(report(mac, 0, 0)));
    for (let i = 1; i <= CHANGES; i++) {
      const to = i % 2;
      const from = 1 - to;
      const seen = watchers.expect(mac, `host-${to}`);
      await lease.put(keys.report(`host-${to}`, VNI, mac)).value(encodeReport(report(mac, to, i)));
      moved.push(await seen);
      await client.delete().key(keys.report(`host-${from}`, VNI, mac));
    }
    const b50 = percentile(baseline, 50);
    const m50 = percentile(moved, 50);
    console.log(`MAC change → ${WATCHERS} simulated agents (watchers of fdb/), ${CHANGES} changes each`);
    console.log(
      `  baseline, direct FDB put:     p50 ${ms(b50)}  p95 ${ms(percentile(baseline, 95))}  max ${ms(Math.max(...baseline))}`,
    );
    console.log(
      `  move via report + controller: p50 ${ms(m50)}  p95 ${ms(percentile(moved, 95))}  max ${ms(Math.max(...moved))}  (p50 ${(m50 / b50).toFixed(1)}× baseline)`,
    );
    await watchers.close();
    watchers = null;

    // 2. 10k MACs end to end, against raw puts of 10k keys.
    const rawStart = performance.now();
    await putAll(
      lease,
      Array.from({ length: MACS }, (_, i) => [
        `/bench-raw/${i}`,
        encodeReport(report(formatMac(0x02cc00000000 + i), i % HOSTS, 0)),
      ]),
    );
    const rawMs = performance.now() - rawStart;
    const reportPuts: [string, Buffer][] = Array.from({ length: MACS }, (_, i) => {
      const m = formatMac(0x02dd00000000 + i);
      return [keys.report(`host-${i % HOSTS}`, VNI, m), encodeReport(report(m, i % HOSTS, 0))];
    });
    const start = performance.now();
    await putAll(lease, reportPuts);
    const reportsMs = performance.now() - start;
    const target = MACS + 1; // + the moved MAC
    for (;;) {
      const count = await client.getAll().prefix(keys.fdbOf(VNI)).count();
      if (count >= target) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const totalMs = performance.now() - start;
    console.log(`tables end to end: ${MACS} MAC reports from ${HOSTS} hosts`);
    console.log(
      `  baseline, raw put of ${MACS} keys:        ${ms(rawMs)} (${Math.round(MACS / (rawMs / 1000))} keys/s)`,
    );
    console.log(`  reports written:                         ${ms(reportsMs)}`);
    console.log(
      `  until all ${MACS} FDB entries written:      ${ms(totalMs)} (${Math.round(MACS / (totalMs / 1000))} MACs/s, ${(totalMs / rawMs).toFixed(2)}× baseline)`,
    );
    console.log(
      `  leader: ${controller.metrics.reconciles} computations, ${controller.metrics.reconcileWrites} keys written`,
    );
    lease.release();
  } finally {
    await watchers?.close();
    await controller?.stop();
    client.close();
    await etcd.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
