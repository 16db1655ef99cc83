/**
 * Lets the event loop turn `turns` times (setImmediate), plus a short timer for I/O to land (the
 * compliance suites; waiting for a condition is @dvs/test-support's waitFor).
 */
export async function loopTurns(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
}
