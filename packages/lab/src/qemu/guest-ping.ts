/**
 * Pings from inside a guest (busybox ping), driven over its command console:
 * a short counted ping, and a continuous ping that runs in the background
 * of the guest (it keeps running across a live migration of that guest) and
 * is read back with counters at the end. Busybox prints no reception times,
 * so the figures are in sequence numbers: lost seqs and the longest run of
 * them (times the interval, that is the gap). For pings TO a guest from a
 * namespace, with times, use ContinuousPing (continuous-ping.ts).
 */
import { LabError } from '../errors.js';
import { shellQuote, type ConsoleOptions, type GuestConsole } from './guest-console.js';

export interface GuestPingFigures {
  transmitted: number;
  received: number;
  duplicates: number;
  /** Seqs between the first and the last reply that never got one. */
  lost: number;
  /** Longest run of consecutive lost seqs. */
  longestLossRun: number;
  /** Seq that opened the longest loss run (the first seq without a reply), null without loss. */
  longestLossFromSeq: number | null;
}

const REPLY = /bytes from [^:]+: seq=(\d+) ttl=\d+ time=[\d.]+ ms( \(DUP!\))?/;
const SUMMARY = /(\d+) packets transmitted, (\d+) packets received(?:, \+(\d+) duplicates)?/;

/** Figures from reply seqs (in arrival order, duplicates flagged) and the transmitted count when known. */
export function guestPingFigures(
  replies: readonly { seq: number; duplicate: boolean }[],
  transmitted: number | null,
): GuestPingFigures {
  const seqs = new Set<number>();
  let duplicates = 0;
  for (const r of replies) {
    if (r.duplicate || seqs.has(r.seq)) duplicates++;
    else seqs.add(r.seq);
  }
  const sorted = [...seqs].sort((a, b) => a - b);
  let lost = 0;
  let longestLossRun = 0;
  let longestLossFromSeq: number | null = null;
  for (let i = 1; i < sorted.length; i++) {
    const run = sorted[i] - sorted[i - 1] - 1;
    lost += run;
    if (run > longestLossRun) {
      longestLossRun = run;
      longestLossFromSeq = sorted[i - 1] + 1;
    }
  }
  const highest = sorted.length > 0 ? sorted[sorted.length - 1] + 1 : 0;
  return {
    transmitted: transmitted ?? highest,
    received: seqs.size,
    duplicates,
    lost,
    longestLossRun,
    longestLossFromSeq,
  };
}

/** Figures from busybox ping's output (reply lines and, when it ended, its summary). */
export function parseBusyboxPing(text: string): GuestPingFigures {
  const replies: { seq: number; duplicate: boolean }[] = [];
  let transmitted: number | null = null;
  for (const line of text.split('\n')) {
    const m = REPLY.exec(line);
    if (m !== null) replies.push({ seq: Number(m[1]), duplicate: m[2] !== undefined });
    const s = SUMMARY.exec(line);
    if (s !== null) transmitted = Number(s[1]);
  }
  return guestPingFigures(replies, transmitted);
}

/**
 * Parses the compact form GuestContinuousPing reads back (short, for a
 * long ping): one "<seq>" or "<seq> DUP" line per reply, and busybox's summary line.
 */
export function parseCompactPing(text: string): GuestPingFigures {
  const replies: { seq: number; duplicate: boolean }[] = [];
  let transmitted: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^(\d+)( DUP)?$/.exec(line.trim());
    if (m !== null) replies.push({ seq: Number(m[1]), duplicate: m[2] !== undefined });
    const s = SUMMARY.exec(line);
    if (s !== null) transmitted = Number(s[1]);
  }
  return guestPingFigures(replies, transmitted);
}

function pingArgs(target: string, intervalMs: number, size: number | undefined): string {
  if (!Number.isFinite(intervalMs) || intervalMs < 1)
    throw new LabError('DVS_LAB_BAD_SPEC', `guest ping interval ${intervalMs} ms is invalid: use 1 ms or more`);
  const size_ = size === undefined ? '' : ` -s ${Math.trunc(size)}`;
  return `-i ${(intervalMs / 1000).toFixed(3)}${size_} ${shellQuote(target)}`;
}

/** `ping -c count` from the guest; resolves with the figures (whatever the exit status). */
export async function pingFromGuest(
  console: GuestConsole,
  target: string,
  options: ConsoleOptions & { count?: number; intervalMs?: number; size?: number } = {},
): Promise<GuestPingFigures> {
  const count = options.count ?? 3;
  const r = await console.exec(`ping -c ${count} -W 2 ${pingArgs(target, options.intervalMs ?? 200, options.size)}`, {
    ...options,
    timeoutMs: options.timeoutMs ?? 10_000 + count * (options.intervalMs ?? 200),
  });
  return parseBusyboxPing(r.output);
}

/** A ping running in the background of a guest, its output in a file in the guest's /tmp. */
export class GuestContinuousPing {
  private constructor(
    readonly target: string,
    readonly intervalMs: number,
    /** The ping's pid in the guest. */
    readonly pid: number,
    readonly logFile: string,
    private console: GuestConsole,
  ) {}

  /** Starts `ping -i interval target` in the guest; resolves once it runs. */
  static async start(
    console: GuestConsole,
    target: string,
    options: ConsoleOptions & { intervalMs?: number; size?: number } = {},
  ): Promise<GuestContinuousPing> {
    const intervalMs = options.intervalMs ?? 10;
    const logFile = `/tmp/dvs-ping-${Date.now().toString(36)}.log`;
    const out = await console.run(
      `ping ${pingArgs(target, intervalMs, options.size)} >${logFile} 2>&1 & echo $!`,
      options,
    );
    const pid = Number(out.trim());
    if (!Number.isInteger(pid) || pid <= 0)
      throw new LabError('DVS_LAB_COMMAND_FAILED', `guest ping to ${target} did not start: ${out.trim()}`);
    return new GuestContinuousPing(target, intervalMs, pid, logFile, console);
  }

  /** Use another console from now on (the guest's, after it migrated to another QEMU). */
  useConsole(console: GuestConsole): void {
    this.console = console;
  }

  private async read(options: ConsoleOptions): Promise<GuestPingFigures> {
    // One short line per reply ("<seq>" or "<seq> DUP") plus the summary, not the whole log.
    const compact = `sed -n -e 's/.* seq=\\([0-9]*\\) .*(DUP!).*/\\1 DUP/p' -e 's/.* seq=\\([0-9]*\\) .*/\\1/p' -e '/packets transmitted/p' ${this.logFile}`;
    return parseCompactPing(await this.console.run(compact, { ...options, timeoutMs: options.timeoutMs ?? 60_000 }));
  }

  /** The figures so far (the ping keeps running). */
  sample(options: ConsoleOptions = {}): Promise<GuestPingFigures> {
    return this.read(options);
  }

  /** Stops the ping (SIGINT: it prints its summary) and returns the figures. */
  async stop(options: ConsoleOptions = {}): Promise<GuestPingFigures> {
    await this.console.exec(`kill -INT ${this.pid}; while kill -0 ${this.pid} 2>/dev/null; do sleep 0.1; done`, {
      ...options,
      timeoutMs: options.timeoutMs ?? 15_000,
    });
    const figures = await this.read(options);
    await this.console.exec(`rm -f ${this.logFile}`, options);
    return figures;
  }
}
