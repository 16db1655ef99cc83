// Fuzz inputs shared by the fuzz tests: a cheap xorshift generator seeded by
// fast-check (fast-check drives and reports the seed that reproduces a
// failure; the bytes cost almost nothing), and the input maker that turns a
// subject's valid templates into random, mutated and truncated inputs.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boundedView } from './bounded-view.js';

/** Inputs per fast-check run: keeps fast-check's own per-run cost out of the budget. */
const INPUTS_PER_RUN = 10;

export interface Subject {
  /** Valid encodings the mutations start from, each decoded at offset 0 in its own buffer. */
  templates: Buffer[];
  /** Re-seals a mutated template (e.g. recomputes a checksum) so mutations reach past it. */
  reseal?: (buf: Buffer, off: number, length: number) => void;
  /** Runs the decoder; throws (assert) when a non-"no" result is not valid. Returns true when accepted. */
  check: (buf: Uint8Array, off: number, length: number, raw: Buffer) => boolean;
}

/** xorshift32: a few nanoseconds per number, plenty random for byte soup. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Room for the longest template plus its random prefix. */
export const SCRATCH_LENGTH = 256;

/**
 * Writes one input from `rand` into `scratch` and returns [off, present,
 * length]: random bytes, or a template after a random prefix (the offset),
 * with 0-3 byte mutations and an optional reseal, then cut short or not; the
 * length argument is exact, shorter, or (a lying caller) longer than the
 * `present` bytes.
 */
export function makeInput(subject: Subject, rand: () => number, scratch: Buffer): [number, number, number] {
  const mode = rand() % 8;
  if (mode === 0) {
    const n = rand() % 120;
    for (let i = 0; i < n; i++) scratch[i] = rand();
    return [0, n, n];
  }
  const template = subject.templates[rand() % subject.templates.length];
  const off = mode >= 6 ? rand() % 8 : 0;
  for (let i = 0; i < off; i++) scratch[i] = rand();
  template.copy(scratch, off);
  const mutations = mode === 1 ? 0 : rand() % 4;
  for (let i = 0; i < mutations; i++) {
    const at = off + (rand() % template.length);
    scratch[at] = rand() % 3 === 0 ? scratch[at] ^ (1 << (rand() % 8)) : rand();
  }
  if (subject.reseal && rand() % 2 === 0) subject.reseal(scratch, off, template.length);
  const cut = mode === 2 || mode === 7 ? rand() % (template.length + 1) : template.length;
  const lengthMode = rand() % 8;
  const length = lengthMode === 0 ? cut + (rand() % 16) : lengthMode === 1 ? rand() % (cut + 1) : cut;
  return [off, off + cut, length];
}

/**
 * Feeds `total` inputs made from `subject` through its check, each behind a
 * bounds guard that throws on any read outside [off, min(off + length,
 * bytes present)). Fails on a throw, and unless both outcomes (accepted,
 * rejected) were reached by more than 1% of the inputs.
 */
export function fuzzSubject(name: string, subject: Subject, total: number): void {
  let inputs = 0;
  let accepted = 0;
  let rejected = 0;
  const scratch = Buffer.alloc(SCRATCH_LENGTH);
  const guard = boundedView(scratch);
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const rand = xorshift(seed);
      for (let i = 0; i < INPUTS_PER_RUN; i++) {
        const [off, present, length] = makeInput(subject, rand, scratch);
        guard.aim(off, Math.min(off + Math.max(length, 0), present), present);
        if (subject.check(guard.view, off, length, scratch)) accepted++;
        else rejected++;
        inputs++;
      }
    }),
    { numRuns: total / INPUTS_PER_RUN },
  );
  assert.equal(inputs, total);
  // The inputs must reach both outcomes, or the test proves little.
  assert.ok(accepted > total / 100, `${name} accepted only ${accepted}`);
  assert.ok(rejected > total / 100, `${name} rejected only ${rejected}`);
}
