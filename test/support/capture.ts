import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetnsLab } from './netns-lab.js';
import { waitFor } from '@dvs/test-support';

export interface Capture {
  /** pcap file (tool 'tshark' with write) or text output (tcpdump). */
  file: string;
  /** Stops the capture (SIGTERM) and returns its text output. */
  stop(): Promise<string>;
}

/**
 * tcpdump -e -n on `ifname` inside `ns` with a BPF `filter`, printing each
 * frame with its link header (so VLAN tags show as "vlan N"). Resolves once
 * tcpdump is listening.
 */
export async function tcpdump(
  lab: NetnsLab,
  ns: string,
  ifname: string,
  filter: string[],
  name: string,
): Promise<Capture> {
  const file = join(await lab.tempDir(), `${name}.txt`);
  const child = lab.spawn(ns, ['tcpdump', '-i', ifname, '-e', '-n', '-l', '-U', ...filter], file);
  await waitFor(
    `tcpdump on ${ifname} listening`,
    async () => (await readFile(file, 'utf8').catch(() => '')).includes('listening on'),
    10_000,
  );
  return {
    file,
    async stop() {
      await lab.stop(child, 2000);
      return readFile(file, 'utf8');
    },
  };
}

/**
 * tshark writing a pcap of `ifname` inside `ns` with capture filter `filter`.
 * Resolves once it is capturing; stop() ends it and returns the pcap path.
 */
export async function tsharkCapture(
  lab: NetnsLab,
  ns: string,
  ifname: string,
  filter: string,
  name: string,
): Promise<{ pcap: string; stop(): Promise<string> }> {
  const dir = await lab.tempDir();
  const pcap = join(dir, `${name}.pcap`);
  const log = join(dir, `${name}.tshark.log`);
  const child = lab.spawn(ns, ['tshark', '-i', ifname, '-f', filter, '-w', pcap, '-q'], log);
  await waitFor(
    `tshark on ${ifname} capturing`,
    async () => (await readFile(log, 'utf8').catch(() => '')).includes('Capturing on'),
    15_000,
  );
  return {
    pcap,
    async stop() {
      await lab.stop(child, 3000);
      return pcap;
    },
  };
}
