/**
 * The benchmark's figures: per path and metric the median and spread
 * (min–max) over the runs, and every dvs figure as a ratio to kernel vxlan
 * *measured in the same run* (one ratio per run, then their median and
 * spread), with the issues' targets beside them (issue 16's for the userspace path). Rendered as Markdown; the JSON
 * file holds the same structure plus every raw sample.
 */
import type { UdpLoss } from './loss-accounting.js';
import type { PathSample } from './measure.js';
import type { PathName } from './topologies.js';
import type { FeatureCostSample } from './feature-cost.js';

export interface RunRecord {
  run: number;
  samples: Partial<Record<PathName, PathSample>>;
  /** Flow export features on the dvs-vxlan path, in alternating off/on pairs (feature-cost.ts). */
  featureCosts?: FeatureCostSample[];
}

/** A feature's cost over every pair of every run: 1 − on/off, as fractions. */
export interface FeatureCost {
  what: string;
  targetPct: number;
  tcp1: Spread | null;
  udp64: Spread | null;
  cpu: Spread | null;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export type RatioKey = 'tcp1' | 'tcp4' | 'udp64' | 'pingAvgDeltaUs' | 'pingP99DeltaUs' | 'cpuPerGB';

export interface TargetCheck {
  what: string;
  target: string;
  figure: string;
  met: boolean | null;
}

export interface DatapathSummary {
  paths: Partial<Record<PathName, Partial<Record<keyof PathSample, Spread>>>>;
  /** dvs path → ratio (or µs delta) to kernel vxlan in the same run. */
  ratios: Partial<Record<PathName, Partial<Record<RatioKey, Spread>>>>;
  /** Where the UDP test lost packets, per path (counts per run). */
  loss: Partial<Record<PathName, Partial<Record<keyof UdpLoss, Spread>>>>;
  targets: TargetCheck[];
  featureCosts: FeatureCost[];
}

const LOSS_KEYS: ReadonlyArray<keyof UdpLoss> = [
  'sent',
  'lost',
  'senderNic',
  'agents',
  'hostSockets',
  'receiverSocket',
  'unaccounted',
];

export const TARGETS = {
  /** The userspace path (issue 16), each against the same run's kernel vxlan. */
  tcp1Ratio: 0.5,
  tcp4Ratio: 0.5,
  pingAvgDeltaUs: 200,
  pingP99DeltaUs: 1000,
  agentCpuSecondsPerGB: 1.5,
  /** 64 B UDP received (issue 8); read it with the packets each path sent (the loss table). */
  udp64Ratio: 0.5,
  /** The kernel provider (issue 17): TCP ×1 and ×4 against the same run's hand-built kernel vxlan, ping delta. */
  kernelTcpRatio: 0.95,
  kernelPingAvgDeltaUs: 20,
} as const;

export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

const METRICS: ReadonlyArray<keyof PathSample> = [
  'tcp1Gbps',
  'tcp1Retransmits',
  'tcp4Gbps',
  'tcp4Retransmits',
  'udp64RxPps',
  'udp64SentPps',
  'udp64LossPct',
  'pingAvgMs',
  'pingP99Ms',
  'pingLost',
  'agentCpuSecondsPerGB',
];

/** One run's dvs figure against the same run's kernel vxlan figure. */
export function runRatios(dvs: PathSample, kernel: PathSample): Record<RatioKey, number> {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
  return {
    tcp1: ratio(dvs.tcp1Gbps, kernel.tcp1Gbps),
    tcp4: ratio(dvs.tcp4Gbps, kernel.tcp4Gbps),
    udp64: ratio(dvs.udp64RxPps, kernel.udp64RxPps),
    pingAvgDeltaUs: (dvs.pingAvgMs - kernel.pingAvgMs) * 1000,
    pingP99DeltaUs: (dvs.pingP99Ms - kernel.pingP99Ms) * 1000,
    // The kernel's CPU is not attributable to a process: no ratio.
    cpuPerGB: NaN,
  };
}

export function summarize(runs: readonly RunRecord[]): DatapathSummary {
  const summary: DatapathSummary = { paths: {}, ratios: {}, loss: {}, targets: [], featureCosts: [] };
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.samples) as PathName[]))];
  for (const name of names) {
    const per: Partial<Record<keyof PathSample, Spread>> = {};
    for (const m of METRICS) {
      const s = spread(runs.map((r) => r.samples[name]?.[m]).filter((v): v is number => typeof v === 'number'));
      if (s) per[m] = s;
    }
    summary.paths[name] = per;
    const loss: Partial<Record<keyof UdpLoss, Spread>> = {};
    for (const k of LOSS_KEYS) {
      const s = spread(
        runs.map((r) => r.samples[name]?.udp64Loss?.[k]).filter((v): v is number => typeof v === 'number'),
      );
      if (s) loss[k] = s;
    }
    summary.loss[name] = loss;
    if (!name.startsWith('dvs')) continue;
    const perRun = runs
      .filter((r) => r.samples[name] && r.samples['kernel-vxlan'])
      .map((r) => runRatios(r.samples[name]!, r.samples['kernel-vxlan']!));
    const ratios: Partial<Record<RatioKey, Spread>> = {};
    for (const key of ['tcp1', 'tcp4', 'udp64', 'pingAvgDeltaUs', 'pingP99DeltaUs'] as const) {
      const s = spread(perRun.map((x) => x[key]));
      if (s) ratios[key] = s;
    }
    summary.ratios[name] = ratios;
  }
  const byFeature = new Map<string, FeatureCostSample[]>();
  for (const f of runs.flatMap((r) => r.featureCosts ?? []))
    byFeature.set(f.what, [...(byFeature.get(f.what) ?? []), f]);
  summary.featureCosts = [...byFeature].map(([what, samples]) => ({
    what,
    targetPct: samples[0]!.targetPct,
    tcp1: spread(samples.flatMap((s) => s.tcp1)),
    udp64: spread(samples.flatMap((s) => s.udp64)),
    cpu: spread(samples.flatMap((s) => s.cpu ?? [])),
  }));
  summary.targets = targetChecks(summary);
  return summary;
}

function targetChecks(s: DatapathSummary): TargetCheck[] {
  const vx = s.paths['dvs-vxlan'];
  const r = s.ratios['dvs-vxlan'];
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const out: TargetCheck[] = [];
  for (const f of s.featureCosts) {
    for (const [key, label] of [
      ['tcp1', 'TCP ×1'],
      ['udp64', 'UDP 64 B'],
    ] as const) {
      const c = f[key]?.median;
      out.push({
        what: `cost of ${f.what} on dvs VXLAN (${label}, off/on pairs)`,
        target: `≤ ${f.targetPct} %`,
        figure: c === undefined ? 'n/a' : pct(c),
        met: c === undefined ? null : c * 100 <= f.targetPct,
      });
    }
  }
  const us = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(0)} µs`;
  for (const [key, label, target] of [
    ['tcp1', 'TCP ×1', TARGETS.tcp1Ratio],
    ['tcp4', 'TCP ×4', TARGETS.tcp4Ratio],
    ['udp64', '64 B UDP received', TARGETS.udp64Ratio],
  ] as const) {
    const v = r?.[key]?.median;
    out.push({
      what: `dvs VXLAN ${label} / kernel vxlan`,
      target: `≥ ${pct(target)}`,
      figure: v === undefined ? 'n/a' : pct(v),
      met: v === undefined ? null : v >= target,
    });
  }
  for (const [key, label, target] of [
    ['pingAvgDeltaUs', 'ping avg', TARGETS.pingAvgDeltaUs],
    ['pingP99DeltaUs', 'ping p99', TARGETS.pingP99DeltaUs],
  ] as const) {
    const v = r?.[key]?.median;
    out.push({
      what: `dvs VXLAN ${label} − kernel vxlan`,
      target: `≤ +${target} µs`,
      figure: v === undefined ? 'n/a' : us(v),
      met: v === undefined ? null : v <= target,
    });
  }
  const cpu = vx?.agentCpuSecondsPerGB?.median;
  out.push({
    what: 'dvs VXLAN agent CPU per GB carried',
    target: `≤ ${TARGETS.agentCpuSecondsPerGB} s/GB`,
    figure: cpu === undefined ? 'n/a' : `${cpu.toFixed(2)} s/GB`,
    met: cpu === undefined ? null : cpu <= TARGETS.agentCpuSecondsPerGB,
  });
  // What a feature costs: its path's TCP against plain dvs-vxlan, when both were measured.
  for (const [path, what, target] of [
    ['dvs-vxlan-policed', 'cost of policing (both ports, both directions), TCP 1 stream', 0.1],
    ['dvs-vxlan-rspan', 'cost of RSPAN of every frame (both ports, both directions), TCP 1 stream', null],
  ] as const) {
    const on = s.paths[path]?.tcp1Gbps?.median;
    const off = vx?.tcp1Gbps?.median;
    if (on === undefined || off === undefined) continue;
    const cost = 1 - on / off;
    out.push({
      what,
      target: target === null ? '(measured)' : `≤ ${pct(target)}`,
      figure: pct(cost),
      met: target === null ? null : cost <= target,
    });
  }
  // The kernel provider's rows only when it was measured (--only may leave it out).
  const k = s.ratios['dvs-kernel'];
  if (k === undefined) return out;
  for (const key of ['tcp1', 'tcp4'] as const) {
    const v = k?.[key]?.median;
    out.push({
      what: `dvs kernel provider TCP ×${key === 'tcp1' ? 1 : 4} / kernel vxlan`,
      target: `≥ ${pct(TARGETS.kernelTcpRatio)}`,
      figure: v === undefined ? 'n/a' : pct(v),
      met: v === undefined ? null : v >= TARGETS.kernelTcpRatio,
    });
  }
  const kd = k?.pingAvgDeltaUs?.median;
  out.push({
    what: 'dvs kernel provider ping avg − kernel vxlan',
    target: `≤ +${TARGETS.kernelPingAvgDeltaUs} µs`,
    figure: kd === undefined ? 'n/a' : us(kd),
    met: kd === undefined ? null : kd <= TARGETS.kernelPingAvgDeltaUs,
  });
  return out;
}

interface Column {
  key: keyof PathSample;
  title: string;
  digits: number;
  scale?: number;
}

const COLUMNS: Column[] = [
  { key: 'tcp1Gbps', title: 'TCP ×1 Gb/s', digits: 2 },
  { key: 'tcp1Retransmits', title: 'retr ×1', digits: 0 },
  { key: 'tcp4Gbps', title: 'TCP ×4 Gb/s', digits: 2 },
  { key: 'tcp4Retransmits', title: 'retr ×4', digits: 0 },
  { key: 'udp64RxPps', title: 'UDP 64 B rx kpps', digits: 1, scale: 1e-3 },
  { key: 'udp64LossPct', title: 'UDP loss %', digits: 1 },
  { key: 'pingAvgMs', title: 'ping avg µs', digits: 0, scale: 1000 },
  { key: 'pingP99Ms', title: 'ping p99 µs', digits: 0, scale: 1000 },
  { key: 'agentCpuSecondsPerGB', title: 'agent CPU s/GB', digits: 2 },
];

function fmt(s: Spread | undefined, digits: number, scale = 1, signed = false): string {
  if (!s) return '–';
  const f = (v: number) => `${signed && v >= 0 ? '+' : ''}${(v * scale).toFixed(digits)}`;
  return s.n > 1 ? `${f(s.median)} (${f(s.min)}…${f(s.max)})` : f(s.median);
}

export function renderMarkdown(summary: DatapathSummary, context: Record<string, string>, runs: number): string {
  const head = ['path', ...COLUMNS.map((c) => c.title)];
  const lines = [
    '# dvs data path against the kernel (same machine, same run)',
    '',
    ...Object.entries(context).map(([k, v]) => `- ${k}: ${v}`),
    '',
    `Median (min…max) over ${runs} run(s); in every run each path is built, measured and removed in turn (reverse order every other run).`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, per] of Object.entries(summary.paths)) {
    lines.push(`| ${name} | ${COLUMNS.map((c) => fmt(per?.[c.key], c.digits, c.scale)).join(' | ')} |`);
  }
  lines.push(
    '',
    '## dvs / kernel vxlan, per run (median, min…max)',
    '',
    '| path | TCP ×1 | TCP ×4 | UDP 64 B rx | ping avg Δ µs | ping p99 Δ µs |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const [name, r] of Object.entries(summary.ratios)) {
    lines.push(
      `| ${name} | ${fmt(r?.tcp1, 1, 100)} % | ${fmt(r?.tcp4, 1, 100)} % | ${fmt(r?.udp64, 1, 100)} % | ${fmt(r?.pingAvgDeltaUs, 0, 1, true)} | ${fmt(r?.pingP99DeltaUs, 0, 1, true)} |`,
    );
  }
  lines.push(
    '',
    '## Where the 64 B UDP test lost packets (packets per run, median (min…max))',
    '',
    'sender NIC: TX dropped on the sending VM’s NIC (for a TAP: the tun ring full while the agent is busy); agents: their drop counters; host sockets: UDP receive-buffer drops in the host namespaces (the tunnel sockets); VM socket: the same in the receiving VM (iperf3 behind); unaccounted: lost minus all of these.',
    '',
    '| path | sent | lost | sender NIC | agents | host sockets | VM socket | unaccounted |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [name, l] of Object.entries(summary.loss)) {
    const f = (k: keyof UdpLoss) => fmt(l?.[k], 0);
    lines.push(
      `| ${name} | ${f('sent')} | ${f('lost')} | ${f('senderNic')} | ${f('agents')} | ${f('hostSockets')} | ${f('receiverSocket')} | ${f('unaccounted')} |`,
    );
  }
  if (summary.featureCosts.length > 0) {
    lines.push(
      '',
      '## What flow export costs: 1 − on/off on the dvs VXLAN path, alternating pairs (median, min…max)',
      '',
      '| feature | TCP ×1 | UDP 64 B rx | agent CPU per GB (TCP ×1) |',
      '| --- | --- | --- | --- |',
    );
    for (const f of summary.featureCosts)
      lines.push(
        `| ${f.what} | ${fmt(f.tcp1 ?? undefined, 1, 100)} % | ${fmt(f.udp64 ?? undefined, 1, 100)} % | ${fmt(f.cpu ?? undefined, 1, 100)} % |`,
      );
  }
  lines.push(
    '',
    '## Targets (issues 16, 8, 13 and 17; reported, never asserted)',
    '',
    '| what | target | measured | |',
    '| --- | --- | --- | --- |',
  );
  for (const t of summary.targets) {
    lines.push(`| ${t.what} | ${t.target} | ${t.figure} | ${t.met === null ? '–' : t.met ? 'met' : 'NOT met'} |`);
  }
  return lines.join('\n') + '\n';
}
