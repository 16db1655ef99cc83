/**
 * On SIGINT/SIGTERM, tear the lab down from its state file and exit (130/143).
 * The state file, not in-memory objects, is the source of truth, so this works
 * at any point of a build, a migration or a benchmark.
 */
import { loadLabState } from './lab-state.js';
import { teardownLab } from './lab-teardown.js';

const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

let interruptedBy: string | null = null;

/** The signal that started a teardown, or null: work that fails afterwards failed because of it. */
export function interruptedBySignal(): string | null {
  return interruptedBy;
}

/** Installs the handlers; returns a function that removes them. */
export function teardownOnSignal(labId: string, say: (line: string) => void = (l) => console.error(l)): () => void {
  let busy = false;
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    if (busy) return;
    busy = true;
    interruptedBy = signal;
    say(`\n${signal}: tearing down lab ${labId}`);
    void (async () => {
      try {
        const state = await loadLabState(labId);
        if (state) await teardownLab(state);
      } finally {
        process.exit(SIGNAL_EXIT[signal]);
      }
    })();
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
