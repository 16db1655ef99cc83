/**
 * The wire sample of one path (issue 16, "Must not break → The wire"): a
 * bounded tcpdump capture (`-c`, default 2000 datagrams) on the sending
 * host's underlay veth during a TCP ×1 iperf3 stream, judged by the shared
 * wire check (../underlay-wire.ts): every datagram ≤ the underlay MTU,
 * decoded by tshark as VXLAN / GRE-in-UDP down to the inner TCP, nothing
 * malformed, no error-level expert finding.
 *
 * It runs as its own short stream after the measured tests, never during
 * them, for two reasons:
 *  - the capture costs CPU (tcpdump copying ~3 MB) that the figures must not
 *    carry;
 *  - a veth carries GSO super-packets whole (UDP GSO from an agent, TSO
 *    inside a kernel vxlan packet), so a capture behind it would show 64 KB
 *    "datagrams" a NIC never sends. For the sample both hosts' underlay veths
 *    get `gso_max_segs 1`: the kernel cuts every GSO packet in software before
 *    the veth, as before a NIC without the offload, and the capture shows the
 *    datagrams a wire would carry. The setting is restored afterwards.
 *
 * tcpdump is started and stopped by its PID (and released with the path on
 * failure); the pcap is removed with the path unless the check fails (then it
 * is kept and named in the verdict).
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { runTsharkWire, underlayCaptureFilter, type UnderlayEncap, type WireVerdict } from '../underlay-wire.js';
import { IPERF_PORT, iperf } from './measure.js';
import { UNDERLAY_IFNAME, type BuiltPath, type PathName } from './topologies.js';

export interface WireSampleOptions {
  /** Datagrams to capture at most (tcpdump -c). */
  packets: number;
  /** Length of the sampled TCP ×1 stream, seconds (it stops earlier once the count is reached). */
  seconds: number;
  signal?: AbortSignal;
}

/** The verdict, plus the kept pcap when the check failed. */
export interface WireSample extends WireVerdict {
  pcap?: string;
}

export const DEFAULT_WIRE_PACKETS = 2000;
/** The sampled stream runs this long before the capture starts. */
const CAPTURE_DELAY_MS = 500;

/** The encapsulation a path puts on its underlay; null for a path without one (the direct veth). */
export function pathEncap(name: PathName): UnderlayEncap | null {
  if (name === 'veth') return null;
  return name === 'dvs-gre-udp' ? 'gre-udp' : 'vxlan';
}

interface LinkDetails {
  mtu: number;
  gso_max_segs?: number;
}

async function linkDetails(path: BuiltPath, ns: string): Promise<LinkDetails> {
  const r = await path.resources.exec(ns, ['ip', '-d', '-j', 'link', 'show', UNDERLAY_IFNAME]);
  const [link] = JSON.parse(r.stdout) as LinkDetails[];
  if (link === undefined) throw new LabError('DVS_LAB_COMMAND_FAILED', `${ns}: no ${UNDERLAY_IFNAME}`);
  return link;
}

async function setGsoMaxSegs(path: BuiltPath, ns: string, segs: number): Promise<void> {
  await path.resources.ip(ns, [`link set ${UNDERLAY_IFNAME} gso_max_segs ${segs}`]);
}

async function waitForListening(log: string, exited: () => boolean, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < 200; i++) {
    signal?.throwIfAborted();
    if ((await readFile(log, 'utf8').catch(() => '')).includes('listening on')) return;
    if (exited())
      throw new LabError('DVS_LAB_COMMAND_FAILED', `tcpdump exited at start: ${await readFile(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new LabError('DVS_LAB_TIMEOUT', `tcpdump did not start listening (log: ${log})`);
}

/** Captures and judges the underlay of `path` during a TCP ×1 stream; null for a path without underlay. */
export async function sampleWire(path: BuiltPath, o: WireSampleOptions): Promise<WireSample | null> {
  const encap = pathEncap(path.name);
  const [sendingHost] = path.hostNamespaces;
  if (encap === null || sendingHost === undefined) return null;
  const dir = path.resources.tempDir('wire');
  const restore: Array<{ ns: string; segs: number }> = [];
  try {
    const { mtu } = await linkDetails(path, sendingHost);
    for (const ns of path.hostNamespaces) {
      const segs = (await linkDetails(path, ns)).gso_max_segs;
      if (segs === undefined) continue;
      restore.push({ ns, segs });
      await setGsoMaxSegs(path, ns, 1);
    }
    const pcap = join(dir, `${path.name}.pcap`);
    const log = join(dir, 'tcpdump.log');
    const server = path.resources.spawn(path.receiver.netns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
    let tcpdump: ChildProcess | null = null;
    try {
      const stream = iperf(path, [], { seconds: o.seconds, pingCount: 0, signal: o.signal });
      stream.catch(() => undefined); // Judged below, in Promise.all.
      // The capture starts once the stream is past its start (steady state, TSO super-frames).
      await new Promise((r) => setTimeout(r, CAPTURE_DELAY_MS));
      const capture = path.resources.spawn(
        sendingHost,
        ['tcpdump', '-i', UNDERLAY_IFNAME, '-n', '-s', '0', '-c', String(o.packets), '-w', pcap].concat(
          underlayCaptureFilter(encap),
        ),
        log,
      );
      tcpdump = capture;
      await Promise.all([stream, waitForListening(log, () => capture.exitCode !== null, o.signal)]);
    } finally {
      await path.resources.stop(server);
      // Usually gone already: it exits by itself after -c datagrams.
      if (tcpdump !== null) await path.resources.stop(tcpdump);
    }
    const verdict: WireSample = await runTsharkWire(pcap, { mtu, encap, signal: o.signal });
    if (!verdict.pass) {
      path.resources.keep(dir);
      verdict.pcap = pcap;
    }
    return verdict;
  } finally {
    for (const { ns, segs } of restore) await setGsoMaxSegs(path, ns, segs).catch(() => undefined);
  }
}
