/**
 * DVS_STAGE_TRACE=<file>: the agent runs the addon's stage trace
 * (@dvs/netdev stage-trace.ts) from start to stop and writes its records to
 * <file> as JSON when it stops, with the garbage collections of that time on
 * the same clock. A diagnostic for the latency breakdown of
 * `npm run bench -- datapath --stages`; unset (the default), nothing is
 * recorded and the data path pays one branch per mark.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { nativeAvailable, startStageTrace, stopStageTrace, takeStageTrace } from '@dvs/netdev';

export const STAGE_TRACE_ENV = 'DVS_STAGE_TRACE';

/** A garbage collection on the stage trace's clock (CLOCK_MONOTONIC µs). */
export interface TracedGc {
  atUs: number;
  durationUs: number;
  /** perf_hooks' kind: 1 minor (scavenge), 4 incremental marking, 2 major, 8 weak callbacks. */
  kind: number;
}

/** Starts the trace when DVS_STAGE_TRACE names a file; returns what writes it out at stop (null: off). */
export function stageTraceFromEnv(env: NodeJS.ProcessEnv = process.env): { finish(): void } | null {
  const file = env[STAGE_TRACE_ENV];
  if (file === undefined || file === '' || !nativeAvailable()) return null;
  // performance.now() runs on the same monotonic clock (uv_hrtime) from another origin.
  const originUs = Number(process.hrtime.bigint()) / 1000 - performance.now() * 1000;
  const gcs: TracedGc[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ?? 0;
      gcs.push({ atUs: originUs + e.startTime * 1000, durationUs: e.duration * 1000, kind });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  startStageTrace();
  return {
    finish(): void {
      const records = takeStageTrace();
      stopStageTrace();
      observer.disconnect();
      writeFileSync(file, JSON.stringify({ pid: process.pid, records, gcs }) + '\n');
    },
  };
}
