/** A signal that aborts when `signal` does or after `timeoutMs`, whichever comes first. */
export function deadlineSignal(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
