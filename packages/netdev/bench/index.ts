/**
 * npm run bench -w @dvs/netdev
 *
 * Packets/s and Gb/s of the agent-shaped forwarding loops (forwarder.ts) for
 * 64 B and 1400 B frames, port → UDP and UDP → port, with ratios against (b),
 * all measured in this one run:
 *   (a) node:dgram + the addon's TAP                  (the first baseline)
 *   (b) native sendmmsg/recvmmsg + the addon's TAP    (the TAP port)
 * and the attached port (AttachedDevice), native socket, on a TAP that the
 * generator process creates and holds as QEMU does (it plays the VM on its
 * fd, one write(2) per frame):
 *   (c) recvmmsg (the default)
 *   (d) TPACKET_V3 ring                (port → UDP only: the rings change reads)
 *   (e) TPACKET_V2 ring                (port → UDP only)
 *   (f) (c) writing through the qdisc  (UDP → port only: no PACKET_QDISC_BYPASS)
 * and on a veth end, whose far end the generator drives as fast as it drives
 * (b) (AF_PACKET, 64 frames per sendmmsg), so the port is saturated as (b) is:
 *   (g) recvmmsg   (h) TPACKET_V3 ring   (i) TPACKET_V2 ring (port → UDP only)
 * Then the one-way latency of one frame per millisecond into the port, for
 * (b), (c), (d), (e). Everything lives in a network namespace of our own,
 * deleted at the end.
 *
 * Underlay: port → UDP sends to four VTEPs (198.51.100.10-13, static
 * neighbours) out of a second TAP standing in for the NIC, which the generator
 * reads and counts as the far end of the wire: the forwarder pays for its own
 * transmit path only, as on a real host (loopback would also bill it the
 * receiver's whole stack). UDP → port receives from the generator over loopback.
 *
 * Then the FDB apply rate of Rtnetlink against iproute2's `bridge -batch`
 * (fdb-apply.ts), and last what UDP_GRO saves on receive, CPU per GB
 * against plain recvmmsg (udp-gro.ts).
 *
 * DVS_BENCH_CONFIGS=b,c limits the rows (`fdb` names the FDB rows, `gro` the
 * UDP_GRO ones: `fdb` alone runs only them); DVS_BENCH_SECONDS sets the time per cell.
 */
import { VXLAN_UDP_PORT, formatIpv4Address, parseIpv4Address } from '@dvs/wire';
import { DEFAULT_QDISC_BYPASS, enterNetworkNamespace, openTapSync } from '../src/index.js';
import type { AttachBatching } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';
import { printFdbApply, runFdbApplyBench } from './fdb-apply.js';
import { runUdpGroBench } from './udp-gro.js';
import { MEASURE_S, runCell, runLatency } from './cells.js';
import type { Config, Direction, PortKind, Result, Setup } from './cells.js';
import type { Vtep } from './forwarder.js';
import { MAC_COUNT, VTEP_COUNT, macNumber } from './traffic.js';

/**
 * How many VTEPs TAP → UDP spreads frames over, round robin (DVS_BENCH_VTEPS,
 * 1..VTEP_COUNT): with 1 every batch goes to one peer, as a single bulk flow
 * does, and the native socket's UDP GSO coalesces it; with more, consecutive
 * frames never share a destination and nothing coalesces.
 */
const VTEPS_USED = Math.min(VTEP_COUNT, Math.max(1, Number(process.env.DVS_BENCH_VTEPS ?? VTEP_COUNT)));
const SIZES = [64, 1400];
const UNDERLAY_ADDRESS = '198.51.100.1';
const VTEP_ADDRESS_BASE = parseIpv4Address('198.51.100.10') as number;
const LATENCY_FRAMES = 1000;
const BOTH: readonly Direction[] = ['tap→udp', 'udp→tap'];
/** The rings change how the port reads; its writes are sendmmsg in every mode. */
const READS: readonly Direction[] = ['tap→udp'];
/** Qdisc bypass changes how the port writes. */
const WRITES: readonly Direction[] = ['udp→tap'];

const attach = (
  target: 'held-tap' | 'veth',
  batching: AttachBatching,
  qdiscBypass = DEFAULT_QDISC_BYPASS,
): PortKind => ({ kind: 'attach', target, batching, qdiscBypass });
const TAP: PortKind = { kind: 'tap' };

const CONFIGS: Record<string, Config> = {
  a: { label: '(a) dgram + TAP', socket: 'dgram', port: TAP, directions: BOTH },
  b: { label: '(b) native + TAP', socket: 'native', port: TAP, directions: BOTH },
  c: { label: '(c) held TAP, recvmmsg', socket: 'native', port: attach('held-tap', 'mmsg'), directions: BOTH },
  d: { label: '(d) held TAP, V3 ring', socket: 'native', port: attach('held-tap', 'tpacket-v3'), directions: READS },
  e: { label: '(e) held TAP, V2 ring', socket: 'native', port: attach('held-tap', 'tpacket-v2'), directions: READS },
  f: {
    label: `(f) held TAP, ${DEFAULT_QDISC_BYPASS ? 'via qdisc' : 'qdisc bypass'}`,
    socket: 'native',
    port: attach('held-tap', 'mmsg', !DEFAULT_QDISC_BYPASS),
    directions: WRITES,
  },
  g: { label: '(g) veth, recvmmsg', socket: 'native', port: attach('veth', 'mmsg'), directions: BOTH },
  h: { label: '(h) veth, V3 ring', socket: 'native', port: attach('veth', 'tpacket-v3'), directions: READS },
  i: { label: '(i) veth, V2 ring', socket: 'native', port: attach('veth', 'tpacket-v2'), directions: READS },
};
const BASELINE = 'b';
const LATENCY_CONFIGS = ['b', 'c', 'd', 'e'];

interface Row {
  direction: Direction;
  size: number;
  results: Map<string, Result>;
}

function fmt(n: number, width: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }).padStart(width);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const asked = (process.env.DVS_BENCH_CONFIGS ?? [...Object.keys(CONFIGS), 'fdb', 'gro'].join(',')).split(',');
  const selected = asked.filter((k) => k in CONFIGS);
  if (selected.length > 0) await forwarding(selected);
  if (asked.includes('fdb')) printFdbApply(await runFdbApplyBench());
  if (asked.includes('gro')) runUdpGroBench();
}

async function forwarding(selected: string[]): Promise<void> {
  const ns = new LabNamespace(`dvn${process.pid}b`);
  const setup: Setup = {
    ns,
    portName: `dvn${process.pid}t`,
    vethName: `dvn${process.pid}v`,
    vethPeer: `dvn${process.pid}w`,
    underlayName: `dvn${process.pid}u`,
    underlayAddress: UNDERLAY_ADDRESS,
    fdb: new Map<number, Vtep>(),
  };
  for (let i = 0; i < MAC_COUNT; i++) {
    setup.fdb.set(macNumber(i), { ipv4: VTEP_ADDRESS_BASE + (i % VTEPS_USED), port: VXLAN_UDP_PORT });
  }
  let restore = (): void => {};
  const rows: Row[] = [];
  const latency = new Map<string, number[]>();
  try {
    ns.run(() => openTapSync({ name: setup.underlayName, persistent: true })).close();
    ns.ip('addr', 'add', `${UNDERLAY_ADDRESS}/24`, 'dev', setup.underlayName);
    for (let i = 0; i < VTEP_COUNT; i++) {
      const address = formatIpv4Address(VTEP_ADDRESS_BASE + i);
      const mac = `02:00:00:00:01:${10 + i}`;
      ns.ip('neigh', 'add', address, 'lladdr', mac, 'dev', setup.underlayName, 'nud', 'permanent');
    }
    ns.ip('link', 'add', setup.vethName, 'type', 'veth', 'peer', 'name', setup.vethPeer);
    ns.ip('link', 'set', setup.vethPeer, 'up');
    ns.ip('link', 'set', setup.vethName, 'up');
    // Stay inside the namespace for the whole run: node:dgram binds late, on the loop.
    restore = enterNetworkNamespace(ns.name);
    for (const direction of BOTH) {
      for (const size of SIZES) {
        const row: Row = { direction, size, results: new Map() };
        for (const key of selected) {
          if (!CONFIGS[key].directions.includes(direction)) continue;
          row.results.set(key, await runCell(setup, CONFIGS[key], direction, size));
        }
        rows.push(row);
      }
    }
    for (const key of LATENCY_CONFIGS) {
      if (selected.includes(key)) latency.set(key, await runLatency(setup, CONFIGS[key].port, LATENCY_FRAMES));
    }
  } finally {
    restore();
    ns.dispose();
  }
  print(rows, latency, selected);
}

function print(rows: Row[], latency: Map<string, number[]>, selected: string[]): void {
  console.log(
    `\n@dvs/netdev forwarding benchmark (${MEASURE_S} s per cell, batch 64, one generator process, TAP → UDP to ${VTEPS_USED} VTEP(s))`,
  );
  console.log(
    'frames through port → JS (MAC lookup + VXLAN header in place) → UDP, and UDP → JS (VXLAN check + MAC lookup) → port',
  );
  console.log(
    'ports: (a),(b) a TAP the forwarder owns; (c)-(f) attached to a TAP the generator holds (as QEMU does); (g)-(i) attached to a veth end\n',
  );
  const header = `${'direction'.padEnd(9)} ${'frame'.padStart(6)} | ${'configuration'.padEnd(30)} | ${'pkt/s'.padStart(11)} ${'Gb/s'.padStart(6)} ${`×(${BASELINE})`.padStart(7)} | ${'pkt/CPU-s'.padStart(11)} ${`×(${BASELINE})`.padStart(7)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const row of rows) {
    const base = row.results.get(BASELINE);
    let first = true;
    for (const [key, r] of row.results) {
      const lead = first ? `${row.direction.padEnd(9)} ${`${row.size} B`.padStart(6)}` : ' '.repeat(16);
      first = false;
      const ratio = (x: number, y: number | undefined): string => (y === undefined ? '' : `${fmt(x / y, 5, 2)}x`);
      console.log(
        `${lead} | ${CONFIGS[key].label.padEnd(30)} | ${fmt(r.pps, 11)} ${fmt(r.gbps, 6, 2)} ${ratio(r.pps, base?.pps).padStart(7)} | ${fmt(r.ppsPerCpu, 11)} ${ratio(r.ppsPerCpu, base?.ppsPerCpu).padStart(7)}`,
      );
    }
  }
  console.log(
    '\ndetails (whole run incl. warm-up): generated / forwarded / received at the far end / dropped at EAGAIN / lookup misses / kernel queue drops / CPU share',
  );
  for (const row of rows) {
    for (const [key, x] of row.results) {
      console.log(
        `  ${row.direction} ${String(row.size).padStart(4)} B ${`(${key})`.padEnd(4)}: ${fmt(x.generated, 11)} / ${fmt(x.forwarded, 11)} / ${x.delivered === null ? '(TAP)'.padStart(11) : fmt(x.delivered, 11)} / ${fmt(x.eagainDrops, 9)} / ${fmt(x.missed, 6)} / ${fmt(x.kernelDrops, 9)} / ${fmt(x.cpuShare * 100, 3)}%`,
      );
    }
  }
  if (latency.size > 0) {
    console.log(
      `\none-way latency into the port, ${LATENCY_FRAMES} frames at ~1 per ms (generator send → forwarder read, µs): median / p90 / p99`,
    );
    for (const [key, samples] of latency) {
      console.log(
        `  ${CONFIGS[key].label.padEnd(30)}: ${fmt(percentile(samples, 50), 7)} / ${fmt(percentile(samples, 90), 7)} / ${fmt(percentile(samples, 99), 7)}  (${samples.length} frames)`,
      );
    }
  }
  if (!selected.includes(BASELINE)) console.log(`\n(no ratios: the baseline (${BASELINE}) was not run)`);
}

await main();
