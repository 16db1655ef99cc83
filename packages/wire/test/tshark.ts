// tshark as an independent decoder for the pcap tests: whether it is there
// (in CI, with process.env.CI set, a missing tshark fails the tests that need
// it; elsewhere they are skipped with the reason), and one way to run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export const TSHARK = process.env.TSHARK ?? 'tshark';
const version = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
export const tsharkMissing = version.status !== 0;
/** The `skip` option for a describe() that needs tshark. */
export const tsharkSkip: string | false =
  tsharkMissing && !process.env.CI ? `${TSHARK} not installed (scripts/bootstrap.sh installs it)` : false;

/** Fails, naming the cause, when tshark is missing (reached only in CI, where the suite is not skipped). */
export function assertTsharkPresent(): void {
  assert.ok(!tsharkMissing, `${TSHARK} is required (CI is set): ${version.error?.message ?? version.stderr}`);
}

/** One decoded packet: every occurrence of each field, outermost first. */
export type TsharkRow<F extends string> = Record<F, string[]>;

/**
 * Runs `tshark -T fields` over the pcap with checksum validation on for IPv4,
 * UDP and TCP (plus `prefs`, each "name:value"), and returns one row per packet.
 */
export function runTshark<F extends string>(
  pcapPath: string,
  fields: readonly F[],
  prefs: string[] = [],
): TsharkRow<F>[] {
  const args = ['-r', pcapPath, '-n', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
  args.push('-o', 'tcp.check_checksum:TRUE');
  for (const p of prefs) args.push('-o', p);
  args.push('-T', 'fields');
  for (const f of fields) args.push('-e', f);
  args.push('-E', 'separator=\t', '-E', 'aggregator=|', '-E', 'occurrence=a');
  const r = spawnSync(TSHARK, args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const columns = line.split('\t');
      const row = {} as TsharkRow<F>;
      fields.forEach((f, i) => (row[f] = columns[i] ? columns[i].split('|') : []));
      return row;
    });
}

/** tshark's checksum status values (epan/proto.h PROTO_CHECKSUM_E_*): 1 = good. */
export const CHECKSUM_GOOD = '1';
