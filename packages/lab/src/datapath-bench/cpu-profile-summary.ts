/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where an agent's time
 * went: self time per function, and the share of four kinds — the netdev
 * addon's I/O calls (each is mostly the system call and the kernel work it
 * triggers), the agent's JavaScript, garbage collection, and idle (waiting in
 * epoll). This is how docs/performance.md's profile figures were taken.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share (0..1) of the profiled time. */
  shares: { nativeIo: number; javascript: number; gc: number; idle: number; other: number };
  /** Top functions by self time: `name file:line` and share. */
  top: Array<{ fn: string; share: number }>;
}

/** netdev calls that cross into the addon: their self time is the syscall. */
const NATIVE_IO = /^(read|write|send|recv) (src\/tap-device|src\/native-tunnel-socket)\.js/;

export function summarizeProfile(profile: CpuProfile, topN = 12): ProfileSummary {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, number>();
  const shares = { nativeIo: 0, javascript: 0, gc: 0, idle: 0, other: 0 };
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    if (functionName === '(idle)') shares.idle += us;
    else if (functionName === '(garbage collector)') shares.gc += us;
    else if (NATIVE_IO.test(fn)) shares.nativeIo += us;
    else if (url.includes('/packages/')) shares.javascript += us;
    else shares.other += us;
  }
  const div = total > 0 ? total : 1;
  return {
    totalMs: total / 1000,
    shares: {
      nativeIo: shares.nativeIo / div,
      javascript: shares.javascript / div,
      gc: shares.gc / div,
      idle: shares.idle / div,
      other: shares.other / div,
    },
    top: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, us]) => ({ fn, share: us / div })),
  };
}

export async function summarizeProfileFile(file: string, topN?: number): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, topN);
}

export function renderProfileSummary(name: string, s: ProfileSummary): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const lines = [
    `${name}: ${(s.totalMs / 1000).toFixed(1)} s profiled — netdev I/O calls ${pct(s.shares.nativeIo)}, ` +
      `dvs JavaScript ${pct(s.shares.javascript)}, GC ${pct(s.shares.gc)}, idle ${pct(s.shares.idle)}, other ${pct(s.shares.other)}`,
  ];
  for (const t of s.top) lines.push(`  ${pct(t.share).padStart(7)}  ${t.fn}`);
  return lines.join('\n');
}
