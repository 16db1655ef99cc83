/**
 * The benchmarks' command lines: one way to read the options and to say
 * what is wrong with them.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LabError } from './errors.js';

type BenchOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs(options, strict) over process.argv; an unknown or malformed
 * option ends the process with status 2 and a pointer to --help.
 */
export function parseBenchArgs<const O extends BenchOptions>(
  bench: string,
  options: O,
): ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'] {
  try {
    return parseArgs({ options, strict: true }).values;
  } catch (error) {
    process.stderr.write(`${bench} benchmark: ${(error as Error).message}; --help lists the options\n`);
    process.exit(2);
  }
}

/** `--name N`, a whole number ≥ 1; `fallback` when not given. Throws LabError DVS_LAB_BAD_SPEC naming the option. */
export function wholeNumberOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new LabError('DVS_LAB_BAD_SPEC', `--${name} must be a whole number ≥ 1`);
  return n;
}
