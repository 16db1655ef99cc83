/**
 * The FDB apply rate: N static entries on a vxlan device (one remote VTEP
 * each, spread over 250 VTEPs), added and then deleted, by Rtnetlink in
 * batches and by iproute2's `bridge -batch` (one process reading a file of
 * the same entries: its usual fastest path), in this one run, in a namespace
 * of our own. Each cell runs ROUNDS times, alternating the tools; the median
 * is printed. Our rows check that every change was applied and that the
 * kernel holds N entries after the adds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { macText, openRtnetlink } from '../src/index.js';
import type { FdbChange, Rtnetlink } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

const SIZES = [10_000, 50_000];
const ROUNDS = 3;
const VTEPS = 250;
const VXLAN = 'vxbench';

interface Way {
  label: string;
  /** Seconds to apply the adds, then the deletes. */
  run(n: number): Promise<{ add: number; del: number }>;
}

export interface FdbApplyRow {
  n: number;
  label: string;
  /** Median changes per second. */
  addRate: number;
  delRate: number;
}

const mac = (i: number): number => 0x020000000000 + i;
const vtep = (i: number): string => `198.51.100.${1 + (i % VTEPS)}`;

function changes(n: number, op: 'add' | 'del'): FdbChange[] {
  return Array.from({ length: n }, (_, i) =>
    op === 'add' ? { op, device: VXLAN, mac: mac(i), dst: vtep(i) } : { op, device: VXLAN, mac: mac(i) },
  );
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function ours(rtnl: Rtnetlink, label: string, apply: (c: FdbChange[]) => Promise<{ applied: number }>): Way {
  return {
    label,
    async run(n) {
      const adds = changes(n, 'add');
      const dels = changes(n, 'del');
      let start = process.hrtime.bigint();
      const added = await apply(adds);
      const add = seconds(start);
      const held = rtnl.fdb({ device: VXLAN }).filter((e) => e.table === 'self').length;
      if (added.applied !== n || held !== n)
        throw new Error(`${label}: ${added.applied} applied, ${held} held of ${n}`);
      start = process.hrtime.bigint();
      const deleted = await apply(dels);
      const del = seconds(start);
      if (deleted.applied !== n) throw new Error(`${label}: ${deleted.applied} of ${n} deleted`);
      return { add, del };
    },
  };
}

function bridgeBatch(ns: LabNamespace, dir: string): Way {
  return {
    label: 'iproute2 bridge -batch',
    async run(n) {
      const addFile = join(dir, 'add');
      const delFile = join(dir, 'del');
      const lines = (op: string, tail: (i: number) => string): string =>
        Array.from({ length: n }, (_, i) => `fdb ${op} ${macText(mac(i))} dev ${VXLAN}${tail(i)}\n`).join('');
      writeFileSync(
        addFile,
        lines('add', (i) => ` dst ${vtep(i)} self static`),
      );
      writeFileSync(
        delFile,
        lines('del', () => ' self'),
      );
      let start = process.hrtime.bigint();
      execFileSync('bridge', ['-n', ns.name, '-batch', addFile]);
      const add = seconds(start);
      start = process.hrtime.bigint();
      execFileSync('bridge', ['-n', ns.name, '-batch', delFile]);
      return { add, del: seconds(start) };
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function runFdbApplyBench(): Promise<FdbApplyRow[]> {
  const ns = new LabNamespace(`dvn${process.pid}k`);
  const dir = mkdtempSync(join(tmpdir(), 'dvs-fdb-bench-'));
  const rtnl = ns.run(() => openRtnetlink());
  const single = ns.run(() => openRtnetlink({ fdbBatchMessages: 1 }));
  const rows: FdbApplyRow[] = [];
  try {
    rtnl.createVxlan({ name: VXLAN, vni: 100, local: '198.51.100.254' });
    const ways: Way[] = [
      ours(rtnl, 'Rtnetlink.applyFdbSync, 256/sendmsg', async (c) => rtnl.applyFdbSync(c)),
      ours(rtnl, 'Rtnetlink.applyFdb (async, 4096/turn)', (c) => rtnl.applyFdb(c)),
      ours(single, 'Rtnetlink, 1 change/sendmsg', async (c) => single.applyFdbSync(c)),
      bridgeBatch(ns, dir),
    ];
    for (const n of SIZES) {
      const samples = ways.map(() => ({ add: [] as number[], del: [] as number[] }));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [w, way] of ways.entries()) {
          const { add, del } = await way.run(n);
          samples[w].add.push(n / add);
          samples[w].del.push(n / del);
        }
      }
      ways.forEach((way, w) =>
        rows.push({ n, label: way.label, addRate: median(samples[w].add), delRate: median(samples[w].del) }),
      );
    }
  } finally {
    rtnl.close();
    single.close();
    rmSync(dir, { recursive: true, force: true });
    ns.dispose();
  }
  return rows;
}

export function printFdbApply(rows: FdbApplyRow[]): void {
  const fmt = (x: number, w: number, d = 0): string =>
    x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }).padStart(w);
  console.log(
    `\nFDB apply rate: N static entries on a vxlan device (${VTEPS} VTEPs) added, then deleted; median of ${ROUNDS} rounds; changes/s`,
  );
  const header = `${'N'.padStart(7)} | ${'way'.padEnd(38)} | ${'add/s'.padStart(9)} ${'×bridge'.padStart(8)} | ${'del/s'.padStart(9)} ${'×bridge'.padStart(8)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const n of SIZES) {
    const base = rows.find((r) => r.n === n && r.label.startsWith('iproute2'));
    for (const r of rows.filter((row) => row.n === n)) {
      const ratio = (x: number, y: number | undefined): string => (y === undefined ? '' : `${fmt(x / y, 6, 2)}x`);
      console.log(
        `${fmt(n, 7)} | ${r.label.padEnd(38)} | ${fmt(r.addRate, 9)} ${ratio(r.addRate, base?.addRate).padStart(8)} | ${fmt(r.delRate, 9)} ${ratio(r.delRate, base?.delRate).padStart(8)}`,
      );
    }
  }
}
