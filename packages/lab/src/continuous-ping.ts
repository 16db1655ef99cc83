/**
 * A continuous ping from one VM to another (`ping -D -O -i 0.01`), parsed as it
 * runs: the reception time of every reply, duplicates ("DUP!") and the
 * sequence numbers that never got an answer. Migration figures are computed
 * from these records, never estimated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PingReply {
  seq: number;
  /** Reception time (ms since the epoch) as ping printed it (-D). */
  atMs: number;
  rttMs: number;
}

export interface ContinuousPingSummary {
  transmitted: number;
  received: number;
  duplicates: number;
}

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms( \(DUP!\))?/;
const SUMMARY = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/;

/** Parses one line of `ping -D` output; returns the reply (dup flag separate) or null. */
export function parsePingLine(line: string): { reply: PingReply; duplicate: boolean } | null {
  const m = REPLY.exec(line);
  if (!m) return null;
  return {
    reply: { seq: Number(m[2]), atMs: Number(m[1]) * 1000, rttMs: Number(m[3]) },
    duplicate: m[4] !== undefined,
  };
}

export class ContinuousPing {
  readonly intervalMs: number;
  /** First reply per seq, in arrival order. */
  readonly replies: PingReply[] = [];
  /** Reception times of duplicate replies. */
  readonly duplicateTimes: number[] = [];
  summary: ContinuousPingSummary | null = null;
  private readonly child: ChildProcess;
  private readonly seen = new Set<number>();
  private readonly done: Promise<void>;

  /** Starts `ping` in a namespace; resolves once the process is spawned. */
  constructor(netns: string, target: string, intervalMs = 10) {
    this.intervalMs = intervalMs;
    const interval = (intervalMs / 1000).toFixed(3);
    this.child = spawn('ip', ['netns', 'exec', netns, 'ping', '-n', '-D', '-O', '-i', interval, '-W', '1', target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => this.onLine(line));
    this.done = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  private onLine(line: string): void {
    const parsed = parsePingLine(line);
    if (parsed) {
      if (parsed.duplicate || this.seen.has(parsed.reply.seq)) {
        this.duplicateTimes.push(parsed.reply.atMs);
      } else {
        this.seen.add(parsed.reply.seq);
        this.replies.push(parsed.reply);
      }
      return;
    }
    const s = SUMMARY.exec(line);
    if (s) this.summary = { transmitted: Number(s[1]), received: Number(s[2]), duplicates: Number(s[3] ?? 0) };
  }

  /** Resolves when at least n replies arrived (or rejects after timeoutMs). */
  async waitForReplies(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (Date.now() > deadline) throw new Error(`ping: fewer than ${n} replies after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops ping (SIGINT, so it prints its summary) and waits for it. */
  async stop(): Promise<ContinuousPingSummary | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    await this.done;
    return this.summary;
  }
}

export interface PingWindowFigures {
  /** Sequence numbers in the window with no reply at all. */
  lost: number;
  /** Longest time between two consecutive replies in the window (ms). */
  longestGapMs: number;
  /** Reception time (epoch ms) of the reply that opened the longest gap; null without one. */
  longestGapFromMs: number | null;
  duplicates: number;
  /** Replies in the window. */
  received: number;
}

/**
 * Figures for replies whose predecessor arrived in [fromMs, toMs): a gap (or
 * lost seqs) is counted in the window where the last reply before it arrived.
 */
export function pingWindowFigures(ping: ContinuousPing, fromMs: number, toMs: number): PingWindowFigures {
  const sorted = [...ping.replies].sort((a, b) => a.seq - b.seq);
  let lost = 0;
  let longestGapMs = 0;
  let longestGapFromMs: number | null = null;
  let received = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i];
    if (r.atMs < fromMs || r.atMs >= toMs) continue;
    received++;
    const next = sorted[i + 1];
    if (!next) continue;
    lost += next.seq - r.seq - 1;
    if (next.atMs - r.atMs > longestGapMs) {
      longestGapMs = next.atMs - r.atMs;
      longestGapFromMs = r.atMs;
    }
  }
  const duplicates = ping.duplicateTimes.filter((t) => t >= fromMs && t < toMs).length;
  return { lost, longestGapMs, longestGapFromMs, duplicates, received };
}
