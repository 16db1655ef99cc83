/**
 * Lab processes (etcd, controller, agents, forwarders) run detached with their
 * output in a log file, so a lab outlives the `dvs lab up` that built it. Each
 * is recorded with its pid AND its kernel start time: `down` only signals a pid
 * whose start time still matches, never a recycled pid of someone else.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LabError } from './errors.js';
import type { RecordedProcess } from './lab-state.js';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or null when the pid is gone. */
export async function processStartTime(pid: number): Promise<number | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  const start = Number(rest[19]);
  const state = rest[0];
  if (state === 'Z' || state === 'X') return null;
  return Number.isFinite(start) ? start : null;
}

export async function isRecordedProcessAlive(p: RecordedProcess): Promise<boolean> {
  return (await processStartTime(p.pid)) === p.startTime;
}

export interface SpawnDetachedOptions {
  role: RecordedProcess['role'];
  name: string;
  argv: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a process in its own process group, stdout+stderr appended to logFile,
 * and returns its record. `ip netns exec` execs the command in place, so the
 * recorded pid is the program's own.
 */
export async function spawnDetached(options: SpawnDetachedOptions): Promise<RecordedProcess> {
  const fd = openSync(options.logFile, 'a', 0o600);
  let pid: number | undefined;
  try {
    const [file, ...args] = options.argv;
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    pid = child.pid;
    child.on('error', () => undefined);
    child.unref();
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) {
    throw new LabError('DVS_LAB_COMMAND_FAILED', `could not start ${options.argv.join(' ')}`);
  }
  const startTime = await processStartTime(pid);
  if (startTime === null) {
    throw new LabError('DVS_LAB_COMMAND_FAILED', `${options.name} exited at once: see ${options.logFile}`);
  }
  return { role: options.role, name: options.name, pid, startTime, logFile: options.logFile };
}

/** The last lines of a log file (for error messages: the lab directory goes away on teardown). */
export async function logTail(path: string, lines = 12): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after graceMs; only if the recorded start time still matches. */
export async function stopRecordedProcess(p: RecordedProcess, graceMs = 3000): Promise<void> {
  if (!(await isRecordedProcessAlive(p))) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(25);
    if (!(await isRecordedProcessAlive(p))) return;
  }
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 40 && (await isRecordedProcessAlive(p)); i++) await sleep(25);
}
