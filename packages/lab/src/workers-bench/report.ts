/**
 * The `workers` benchmark's table: every measurement, each pair's N/1
 * ratios (same pair, minutes apart: the machine's load moves less within a
 * pair than across the run) and their median, and today's agent beside them.
 */
import type { WorkerSample } from './measure-workers.js';

export interface WorkerReportContext {
  date: string;
  commit: string;
  load: string;
  conditions: string;
}

const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');
const us = (ms: number): string => (Number.isFinite(ms) ? (ms * 1000).toFixed(0) : '–');

function median(values: readonly number[]): number {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function row(pair: string, s: WorkerSample): string {
  const shares = s.shares.map((h) => h.map((v) => `${Math.round(v * 100)}`).join('/')).join(' · ');
  const drops = s.drops
    .map((d) =>
      Object.entries(d)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', '),
    )
    .map((d) => d || '0')
    .join(' · ');
  const loops = s.loops4.map((h) => h.map((v) => `${Math.round(v * 100)}`).join('/')).join(' · ');
  const batches = s.batches4.map((b) => `${b.tap.toFixed(1)}/${b.recv.toFixed(1)}`).join(' · ');
  return `| ${pair} | ${s.name} | ${f2(s.tcp1Gbps)} | ${f2(s.tcp4Gbps)} | ${s.tcp4Retransmits} | ${us(s.pingAvgMs)} | ${us(s.pingP99Ms)} | ${f2(s.cpu1PerGB)} | ${f2(s.cpu4PerGB)} | ${shares || '–'} | ${loops || '–'} | ${batches || '–'} | ${drops || '–'} |`;
}

/** `runs[k]` = [1-worker sample, N-worker sample] of pair k; `reference` = the agent's sample per pair. */
export function renderWorkerReport(
  runs: readonly (readonly WorkerSample[])[],
  reference: readonly WorkerSample[],
  context: WorkerReportContext,
): string {
  const lines = [
    `## 1 against ${runs[0]?.[1]?.name ?? 'N workers'}: ${context.date}, commit ${context.commit}`,
    '',
    `Load average (1/5/15 min): ${context.load}. ${context.conditions}.`,
    '',
    '| pair | switch | TCP×1 Gb/s | TCP×4 Gb/s | TCP×4 retr | ping avg µs | ping p99 µs | CPU s/GB ×1 | CPU s/GB ×4 | worker shares % (host a · host b) | loops busy in ×4 % | batch in ×4: TAP reads / recv slots per call | drops (host a · host b) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  runs.forEach((pair, k) => {
    for (const s of pair) lines.push(row(String(k + 1), s));
    if (reference[k] !== undefined) lines.push(row(String(k + 1), reference[k]));
  });
  const ratios = runs.map(([one, many]) => ({
    tcp1: many.tcp1Gbps / one.tcp1Gbps,
    tcp4: many.tcp4Gbps / one.tcp4Gbps,
    pingAvg: (many.pingAvgMs - one.pingAvgMs) * 1000,
    pingP99: (many.pingP99Ms - one.pingP99Ms) * 1000,
    cpu4: many.cpu4PerGB / one.cpu4PerGB,
  }));
  lines.push(
    '',
    '| pair | TCP×1 N/1 | TCP×4 N/1 | ping avg N−1 µs | ping p99 N−1 µs | CPU s/GB ×4 N/1 |',
    '|---|---|---|---|---|---|',
  );
  ratios.forEach((r, k) =>
    lines.push(
      `| ${k + 1} | ${f2(r.tcp1)} | ${f2(r.tcp4)} | ${r.pingAvg.toFixed(0)} | ${r.pingP99.toFixed(0)} | ${f2(r.cpu4)} |`,
    ),
  );
  const m = (key: keyof (typeof ratios)[number]): number => median(ratios.map((r) => r[key]));
  lines.push(
    `| median | ${f2(m('tcp1'))} | ${f2(m('tcp4'))} | ${m('pingAvg').toFixed(0)} | ${m('pingP99').toFixed(0)} | ${f2(m('cpu4'))} |`,
  );
  return lines.join('\n');
}
