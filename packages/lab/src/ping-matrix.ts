/**
 * The full VM × VM ping matrix. A pair is expected to reach each other when
 * both VMs are in the same VNI and to be isolated otherwise (the VMs have
 * on-link routes to every lab subnet, so isolation is the overlay's doing, not
 * routing's). The matrix passes when every pair behaves as expected.
 */
import type { Lab } from './lab.js';
import type { VmState } from './lab-state.js';

export interface PingPairResult {
  from: string;
  to: string;
  expected: boolean;
  reached: boolean;
  /** Average RTT in ms when reached. */
  rttMs: number | null;
}

export interface PingMatrix {
  vms: string[];
  results: PingPairResult[];
  ok: boolean;
}

export interface PingMatrixOptions {
  /** Parallel pings. Default 6. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Parses iputils ping summary lines: received count and avg RTT. */
export function parsePingSummary(output: string): { transmitted: number; received: number; avgMs: number | null } {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  return {
    transmitted: counts ? Number(counts[1]) : 0,
    received: counts ? Number(counts[2]) : 0,
    avgMs: rtt ? Number(rtt[1]) : null,
  };
}

async function pingOnce(lab: Lab, from: VmState, to: VmState, signal?: AbortSignal): Promise<PingPairResult> {
  const r = await lab.exec(from.name, ['ping', '-n', '-q', '-c', '3', '-i', '0.1', '-W', '1', '-w', '2', to.address], {
    timeoutMs: 10_000,
    signal,
  });
  const s = parsePingSummary(r.stdout);
  return { from: from.name, to: to.name, expected: from.vni === to.vni, reached: s.received > 0, rttMs: s.avgMs };
}

export async function runPingMatrix(lab: Lab, options: PingMatrixOptions = {}): Promise<PingMatrix> {
  const vms = lab.state.vms;
  const pairs: Array<[VmState, VmState]> = [];
  for (const a of vms) for (const b of vms) if (a !== b) pairs.push([a, b]);
  const results: PingPairResult[] = new Array(pairs.length);
  let next = 0;
  const worker = async () => {
    while (next < pairs.length) {
      const i = next++;
      results[i] = await pingOnce(lab, pairs[i][0], pairs[i][1], options.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 6, pairs.length) }, worker));
  return { vms: vms.map((v) => v.name), results, ok: results.every((r) => r.reached === r.expected) };
}

/**
 * Text rendering: one row per source VM, one column per destination.
 *   ok = reached (same VNI), -- = isolated (other VNI), FAIL = same VNI but no
 *   reply, LEAK = reached a VM of another VNI.
 */
export function renderPingMatrix(lab: Lab, m: PingMatrix): string {
  const label = (name: string) => {
    const vm = lab.vm(name);
    return `${name}@${vm.host}/${vm.vni}`;
  };
  const labels = m.vms.map(label);
  const width = Math.max(6, ...labels.map((l) => l.length));
  const cell = (from: string, to: string) => {
    if (from === to) return '';
    const r = m.results.find((x) => x.from === from && x.to === to);
    if (!r) return '?';
    if (r.expected) return r.reached ? 'ok' : 'FAIL';
    return r.reached ? 'LEAK' : '--';
  };
  const colWidth = 6;
  const lines = [' '.repeat(width) + ' ' + m.vms.map((v) => v.padStart(colWidth)).join('')];
  m.vms.forEach((from, i) => {
    lines.push(labels[i].padEnd(width) + ' ' + m.vms.map((to) => cell(from, to).padStart(colWidth)).join(''));
  });
  const bad = m.results.filter((r) => r.reached !== r.expected).length;
  lines.push(
    m.ok
      ? `all ${m.results.length} pairs as expected (ok = same VNI reached, -- = other VNI isolated)`
      : `${bad} of ${m.results.length} pairs NOT as expected (FAIL = no reply within a VNI, LEAK = reply across VNIs)`,
  );
  return lines.join('\n');
}
