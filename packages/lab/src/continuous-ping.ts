/**
 * A continuous ping from one VM to another (`ping -D -O -i 0.01`), parsed as it
 * runs: the reception time of every reply, duplicates ("DUP!"), and every
 * sequence number ping reported as overdue ("no answer yet", -O). Migration
 * and outage figures are computed from these records, never estimated; a
 * blackout that never ends shows as overdue sequence numbers after the last
 * reply, and counts as lost.
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
const NO_ANSWER = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)/;
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

/** Parses one `ping -D -O` "no answer yet" line: the seq ping found overdue, and when it said so. */
export function parseOverdueLine(line: string): { seq: number; atMs: number } | null {
  const m = NO_ANSWER.exec(line);
  return m ? { seq: Number(m[2]), atMs: Number(m[1]) * 1000 } : null;
}

export class ContinuousPing {
  readonly intervalMs: number;
  /** First reply per seq, in arrival order. */
  readonly replies: PingReply[] = [];
  /** Reception times of duplicate replies. */
  readonly duplicateTimes: number[] = [];
  /** Sequence numbers ping reported overdue (-O: no reply when the next was sent), with the time it said so. */
  readonly overdue = new Map<number, number>();
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
    const late = parseOverdueLine(line);
    if (late) {
      this.overdue.set(late.seq, late.atMs);
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
 * After the last reply of all, every sequence number ping reported overdue is
 * lost, and the gap runs to the last such report: a blackout that never ends
 * is counted, not ignored for want of a reply to close it.
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
    let lostAfter: number;
    let gapMs: number;
    if (next) {
      lostAfter = next.seq - r.seq - 1;
      gapMs = next.atMs - r.atMs;
    } else {
      // The last reply: what ping sent after it and never got back.
      const after = [...ping.overdue].filter(([seq]) => seq > r.seq);
      lostAfter = after.length;
      gapMs = after.length === 0 ? 0 : Math.max(...after.map(([, at]) => at)) - r.atMs;
    }
    lost += lostAfter;
    if (gapMs > longestGapMs) {
      longestGapMs = gapMs;
      longestGapFromMs = r.atMs;
    }
  }
  const duplicates = ping.duplicateTimes.filter((t) => t >= fromMs && t < toMs).length;
  return { lost, longestGapMs, longestGapFromMs, duplicates, received };
}

/** Loss over a time window: how many of the echo requests ping sent in [fromMs, toMs) never got a reply. */
export function pingLoss(ping: ContinuousPing, fromMs: number, toMs: number): { sent: number; lost: number } {
  // A reply's request left rttMs before it arrived; an overdue one about one interval before ping said so.
  const sentAt = new Map<number, number>();
  for (const r of ping.replies) sentAt.set(r.seq, r.atMs - r.rttMs);
  const answered = new Set(sentAt.keys());
  for (const [seq, at] of ping.overdue) if (!answered.has(seq)) sentAt.set(seq, at - ping.intervalMs);
  let sent = 0;
  let lost = 0;
  for (const [seq, at] of sentAt) {
    if (at < fromMs || at >= toMs) continue;
    sent++;
    if (!answered.has(seq)) lost++;
  }
  return { sent, lost };
}
