/**
 * The stage trace: CLOCK_MONOTONIC timestamps (µs) the addon takes as frames
 * pass its edges: the uv_poll wake-up of a TAP or tunnel socket, a TAP read
 * that returned frames, the start and end of a send (sendmmsg), a receive
 * (recvmmsg) that returned datagrams, and the start and end of a TAP write.
 * A send or a TAP write returns only after the kernel has run the receiving
 * side as far as it runs synchronously (over a veth, the peer's UDP receive and
 * the wake-up of its reader; into a TAP, the VM's stack answering a ping). A diagnostic for the
 * latency breakdown of the data-path benchmark (the agent turns it on with
 * DVS_STAGE_TRACE). While it is off, each mark costs one branch in the addon
 * and nothing else; while it is on, a clock read and four stores into a
 * preallocated ring (the newest `capacity` records are kept).
 *
 * Every process on one host reads the same monotonic clock, so the records of
 * two agents in one lab can be laid on one time line.
 */
import { nativeBinding } from './native-binding.js';

export const STAGE_MARKS = {
  1: 'poll',
  2: 'tap-read',
  3: 'send-start',
  4: 'send-done',
  5: 'recv-done',
  6: 'tap-write',
  7: 'tap-write-start',
  8: 'js-handler',
  9: 'js-read',
  10: 'js-switched',
} as const;

/** Marks the data path sets from JS (markStage). */
export const STAGE_JS_HANDLER = 8;
export const STAGE_JS_READ = 9;
export const STAGE_JS_SWITCHED = 10;
export type JsStageMark = typeof STAGE_JS_HANDLER | typeof STAGE_JS_READ | typeof STAGE_JS_SWITCHED;

let running = false;

/**
 * A mark from JS: the data path's read handler entered (js-handler), a read
 * returned frames to it (js-read), the pipeline switched a batch (js-switched).
 * Off, one branch on a module flag; on, one N-API call.
 */
export function markStage(mark: JsStageMark): void {
  if (running) nativeBinding().stageMark(mark);
}

export type StageMarkName = (typeof STAGE_MARKS)[keyof typeof STAGE_MARKS];

export interface StageRecord {
  mark: StageMarkName;
  /** The fd of the TAP or socket (the tunnel socket's own fd for a send, even out of a source-port socket); -1 for a JS mark. */
  fd: number;
  /** Frames read, sent or written; for `poll`, the uv events (1 readable, 2 writable). */
  frames: number;
  /** CLOCK_MONOTONIC, microseconds. */
  atUs: number;
}

/** Default ring size: a minute of a ping every 10 ms leaves room to spare. */
export const DEFAULT_STAGE_TRACE_RECORDS = 1 << 18;

export function startStageTrace(capacity = DEFAULT_STAGE_TRACE_RECORDS): void {
  nativeBinding().stageTraceStart(capacity);
  running = true;
}

/** The records since the start or the last take, oldest first; the ring is emptied. */
export function takeStageTrace(): StageRecord[] {
  const raw = nativeBinding().stageTraceTake();
  const out: StageRecord[] = [];
  for (let k = 0; k + 3 < raw.length; k += 4) {
    const mark = STAGE_MARKS[raw[k] as keyof typeof STAGE_MARKS];
    if (mark === undefined) continue;
    out.push({ mark, fd: raw[k + 1], frames: raw[k + 2], atUs: raw[k + 3] });
  }
  return out;
}

export function stopStageTrace(): void {
  nativeBinding().stageTraceStop();
  running = false;
}
