import { PerformanceObserver, performance } from 'node:perf_hooks';

/**
 * Garbage collections that started while `run` ran: the measurement behind
 * every "no allocation per frame" test. `gc` is V8's collector (exposed with
 * --expose-gc); one collection first so the count starts from a clean heap,
 * and a short wait on each side so the observer has seen every entry.
 */
export async function gcsDuring(run: () => void, gc: () => void): Promise<number> {
  const seen: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) seen.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  gc();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 20));
  observer.disconnect();
  return seen.filter((t) => t >= t0 && t <= t1).length;
}
