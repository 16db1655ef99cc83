/**
 * The data-path comparison as a table: median (min–max) over the repeats for
 * each path, and every dvs figure as a ratio to kernel vxlan measured in the
 * same run (issue 8's targets beside them). Written as Markdown and JSON.
 */
import { median } from '../src/migration-report.js';
import type { DatapathSample } from './datapath-measure.js';
import type { TopologyName } from './datapath-topologies.js';

export type Samples = Map<TopologyName, DatapathSample[]>;

interface Column {
  key: keyof DatapathSample;
  title: string;
  digits: number;
  scale?: number;
}

const COLUMNS: Column[] = [
  { key: 'tcp1Gbps', title: 'TCP 1 stream Gb/s', digits: 2 },
  { key: 'tcp1Retransmits', title: 'retr', digits: 0 },
  { key: 'tcp4Gbps', title: 'TCP 4 streams Gb/s', digits: 2 },
  { key: 'udp64RxPps', title: 'UDP 64 B rx kpps', digits: 1, scale: 1e-3 },
  { key: 'udp64LossPct', title: 'UDP loss %', digits: 1 },
  { key: 'pingAvgMs', title: 'ping avg ms', digits: 3 },
  { key: 'pingP99Ms', title: 'ping p99 ms', digits: 3 },
  { key: 'agentCpuSecondsPerGB', title: 'agent CPU s/GB', digits: 2 },
];

export function stat(samples: readonly DatapathSample[], key: keyof DatapathSample) {
  const values = samples.map((s) => s[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return null;
  return { median: median(values)!, min: Math.min(...values), max: Math.max(...values) };
}

function cell(samples: readonly DatapathSample[], c: Column): string {
  const s = stat(samples, c.key);
  if (!s) return '-';
  const f = (v: number) => (v * (c.scale ?? 1)).toFixed(c.digits);
  return samples.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
}

export interface Ratios {
  topology: TopologyName;
  tcp1: number | null;
  tcp4: number | null;
  udp64: number | null;
  pingAvgDeltaUs: number | null;
}

export function ratiosToKernel(samples: Samples): Ratios[] {
  const kernel = samples.get('kernel-vxlan') ?? [];
  const m = (list: readonly DatapathSample[], key: keyof DatapathSample) => stat(list, key)?.median ?? null;
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
  const out: Ratios[] = [];
  for (const [topology, list] of samples) {
    if (!topology.startsWith('dvs')) continue;
    const pa = m(list, 'pingAvgMs');
    const pk = m(kernel, 'pingAvgMs');
    out.push({
      topology,
      tcp1: ratio(m(list, 'tcp1Gbps'), m(kernel, 'tcp1Gbps')),
      tcp4: ratio(m(list, 'tcp4Gbps'), m(kernel, 'tcp4Gbps')),
      udp64: ratio(m(list, 'udp64RxPps'), m(kernel, 'udp64RxPps')),
      pingAvgDeltaUs: pa === null || pk === null ? null : (pa - pk) * 1000,
    });
  }
  return out;
}

export function renderMarkdown(samples: Samples, context: Record<string, string>, repeats: number): string {
  const head = ['path', ...COLUMNS.map((c) => c.title)];
  const lines = [
    '# dvs data path vs the kernel',
    '',
    ...Object.entries(context).map(([k, v]) => `- ${k}: ${v}`),
    '',
    `Median (min–max) of ${repeats} run(s) per path; every path runs in turn on the same machine, same lab underlay.`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
  ];
  for (const [topology, list] of samples)
    lines.push(`| ${topology} | ${COLUMNS.map((c) => cell(list, c)).join(' | ')} |`);
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
  lines.push(
    '',
    '## dvs as a ratio of kernel vxlan (same run)',
    '',
    '| path | TCP 1 stream | TCP 4 streams | UDP 64 B rx | ping avg vs kernel |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const r of ratiosToKernel(samples)) {
    lines.push(
      `| ${r.topology} | ${pct(r.tcp1)} | ${pct(r.tcp4)} | ${pct(r.udp64)} | ${r.pingAvgDeltaUs === null ? 'n/a' : `${r.pingAvgDeltaUs >= 0 ? '+' : ''}${r.pingAvgDeltaUs.toFixed(0)} µs`} |`,
    );
  }
  lines.push(
    '',
    'Targets (issue 8, this 2-vCPU machine): dvs VXLAN TCP single stream ≥ 1.2 Gb/s (≈ 12 % of kernel vxlan), 64 B UDP received ≥ 50 % of kernel vxlan, ping RTT within +100 µs of kernel vxlan.',
  );
  return lines.join('\n') + '\n';
}
