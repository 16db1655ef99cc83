/**
 * npm run bench -w @dvs/netdev
 *
 * Packets/s and Gb/s of the agent-shaped forwarding loops (forwarder.ts) for
 * 64 B and 1400 B frames, TAP → UDP and UDP → TAP, through
 *   (a) node:dgram + the addon's TAP   (the baseline)
 *   (b) native sendmmsg/recvmmsg + the addon's TAP
 * side by side with the ratio b/a, all measured in this one run. Traffic comes
 * from a generator child process (generator.ts) on the other core; everything
 * lives in a network namespace of our own, deleted at the end.
 *
 * Underlay: TAP → UDP sends to four VTEPs (198.51.100.10-13, static
 * neighbours) out of a second TAP standing in for the NIC, which the generator
 * reads and counts as the far end of the wire: the forwarder pays for its own
 * transmit path only, as on a real host (loopback would also bill it the
 * receiver's whole stack). UDP → TAP receives from the generator over loopback.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { VXLAN_UDP_PORT, formatIpv4Address, parseIpv4Address } from '@dvs/wire';
import { enterNetworkNamespace, openDgramTunnelSocket, openTapSync, openTunnelSocketSync } from '../src/index.js';
import type { TunnelSocket } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';
import { newCounters, startDecap, startEncap } from './forwarder.js';
import type { Counters, Vtep } from './forwarder.js';
import { MAC_COUNT, VTEP_COUNT, macNumber } from './traffic.js';

const WARMUP_S = 0.6;
const MEASURE_S = Number(process.env.DVS_BENCH_SECONDS ?? 2.5);
/**
 * How many VTEPs TAP → UDP spreads frames over, round robin (DVS_BENCH_VTEPS,
 * 1..VTEP_COUNT): with 1 every batch goes to one peer, as a single bulk flow
 * does, and the native socket's UDP GSO coalesces it; with more, consecutive
 * frames never share a destination and nothing coalesces.
 */
const VTEPS_USED = Math.min(VTEP_COUNT, Math.max(1, Number(process.env.DVS_BENCH_VTEPS ?? VTEP_COUNT)));
const SIZES = [64, 1400];
/** The underlay for TAP → UDP: a persistent TAP with this address, drained by the generator. */
const UNDERLAY_ADDRESS = '198.51.100.1';
const VTEP_ADDRESS_BASE = parseIpv4Address('198.51.100.10') as number;
const GENERATOR_JS = fileURLToPath(new URL('./generator.js', import.meta.url));

type Impl = 'dgram' | 'native';
type Direction = 'tap→udp' | 'udp→tap';

interface Result {
  pps: number;
  /** Frames forwarded per second of CPU this process used (user + system): robust to a busy machine. */
  ppsPerCpu: number;
  cpuShare: number;
  gbps: number;
  generated: number;
  forwarded: number;
  delivered: number | null;
  missed: number;
  eagainDrops: number;
}

function underlayName(): string {
  return `dvn${process.pid}u`;
}

async function openSocket(impl: Impl, direction: Direction): Promise<TunnelSocket> {
  // TAP → UDP sends from the underlay address; UDP → TAP receives from the generator on loopback.
  const address = direction === 'tap→udp' ? UNDERLAY_ADDRESS : '127.0.0.1';
  const options = { address, port: 0, recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 };
  return impl === 'native' ? openTunnelSocketSync(options) : openDgramTunnelSocket(options);
}

/** Runs the generator child for the whole warm-up + measurement and samples our counters in between. */
async function measure(
  args: string[],
  c: Counters,
): Promise<{
  pps: number;
  ppsPerCpu: number;
  cpuShare: number;
  bytesPerS: number;
  child: { sent: number; drained: number };
}> {
  const child = spawn(process.execPath, [GENERATOR_JS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.value !== 'ready') throw new Error(`generator did not start: ${String(first.value)}`);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
  const cpu = process.cpuUsage();
  const start = { t: performance.now(), n: c.forwarded, b: c.bytes };
  await new Promise((resolve) => setTimeout(resolve, MEASURE_S * 1000));
  const end = { t: performance.now(), n: c.forwarded, b: c.bytes };
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const last = await iterator.next();
  lines.close();
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  const seconds = (end.t - start.t) / 1000;
  return {
    pps: (end.n - start.n) / seconds,
    ppsPerCpu: (end.n - start.n) / cpuSeconds,
    cpuShare: cpuSeconds / seconds,
    bytesPerS: (end.b - start.b) / seconds,
    child: JSON.parse(String(last.value)) as { sent: number; drained: number },
  };
}

async function run(ns: LabNamespace, tapName: string, impl: Impl, direction: Direction, size: number): Promise<Result> {
  const tap = ns.run(() => openTapSync({ name: tapName, mtu: 1500 }));
  // A longer TAP queue absorbs the moments this process is descheduled on a shared machine.
  ns.ip('link', 'set', tapName, 'txqueuelen', '3000');
  const socket = await openSocket(impl, direction);
  const c = newCounters();
  try {
    if (direction === 'tap→udp') {
      const fdb = new Map<number, Vtep>();
      for (let i = 0; i < MAC_COUNT; i++) {
        fdb.set(macNumber(i), { ipv4: VTEP_ADDRESS_BASE + (i % VTEPS_USED), port: VXLAN_UDP_PORT });
      }
      const stop = startEncap(tap, socket, fdb, c);
      const seconds = String(WARMUP_S + MEASURE_S + 0.2);
      const m = await measure([ns.name, 'tap', tapName, String(size), seconds, underlayName()], c);
      const delivered = m.child.drained;
      stop();
      return {
        ...rates(m),
        generated: m.child.sent,
        delivered,
        missed: c.missed,
        eagainDrops: c.eagainDrops,
        forwarded: c.forwarded,
      };
    }
    const local = new Set<number>();
    for (let i = 0; i < MAC_COUNT; i++) local.add(macNumber(i));
    const stop = startDecap(socket, tap, local, c);
    const m = await measure(
      [ns.name, 'udp', String(socket.localPort), String(size), String(WARMUP_S + MEASURE_S + 0.2)],
      c,
    );
    stop();
    return {
      ...rates(m),
      generated: m.child.sent,
      delivered: null,
      missed: c.missed,
      eagainDrops: c.eagainDrops,
      forwarded: c.forwarded,
    };
  } finally {
    socket.close();
    tap.close();
  }
}

function rates(m: { pps: number; ppsPerCpu: number; cpuShare: number; bytesPerS: number }): {
  pps: number;
  ppsPerCpu: number;
  cpuShare: number;
  gbps: number;
} {
  return { pps: m.pps, ppsPerCpu: m.ppsPerCpu, cpuShare: m.cpuShare, gbps: (m.bytesPerS * 8) / 1e9 };
}

function fmt(n: number, width: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }).padStart(width);
}

async function main(): Promise<void> {
  const ns = new LabNamespace(`dvn${process.pid}b`);
  let restore = (): void => {};
  const rows: { direction: Direction; size: number; dgram: Result; native: Result }[] = [];
  try {
    ns.run(() => openTapSync({ name: underlayName(), persistent: true })).close();
    ns.ip('addr', 'add', `${UNDERLAY_ADDRESS}/24`, 'dev', underlayName());
    for (let i = 0; i < VTEP_COUNT; i++) {
      const address = formatIpv4Address(VTEP_ADDRESS_BASE + i);
      ns.ip('neigh', 'add', address, 'lladdr', `02:00:00:00:01:${10 + i}`, 'dev', underlayName(), 'nud', 'permanent');
    }
    // Stay inside the namespace for the whole run: node:dgram binds late, on the loop.
    restore = enterNetworkNamespace(ns.name);
    for (const direction of ['tap→udp', 'udp→tap'] as const) {
      for (const size of SIZES) {
        const dgram = await run(ns, `dvn${process.pid}t`, 'dgram', direction, size);
        const native = await run(ns, `dvn${process.pid}t`, 'native', direction, size);
        rows.push({ direction, size, dgram, native });
      }
    }
  } finally {
    restore();
    ns.dispose();
  }
  console.log(
    `\n@dvs/netdev forwarding benchmark (${MEASURE_S} s per cell, batch 64, one generator process, TAP → UDP to ${VTEPS_USED} VTEP(s))`,
  );
  console.log(
    'frames through TAP → JS (MAC lookup + VXLAN header in place) → UDP, and UDP → JS (VXLAN check + MAC lookup) → TAP\n',
  );
  const header = (title: string): string =>
    `${'direction'.padEnd(9)} ${'frame'.padStart(6)} | ${`(a) dgram ${title}`.padStart(17)} ${'Gb/s'.padStart(6)} | ${`(b) native ${title}`.padStart(18)} ${'Gb/s'.padStart(6)} | ${'b/a'.padStart(6)}`;
  const line = (r: (typeof rows)[number], rate: (x: Result) => number): string => {
    const gbps = (x: Result): number => (rate(x) / x.pps) * x.gbps;
    return `${r.direction.padEnd(9)} ${`${r.size} B`.padStart(6)} | ${fmt(rate(r.dgram), 17)} ${fmt(gbps(r.dgram), 6, 2)} | ${fmt(rate(r.native), 18)} ${fmt(gbps(r.native), 6, 2)} | ${fmt(rate(r.native) / rate(r.dgram), 5, 2)}x`;
  };
  console.log('wall clock: frames forwarded per second');
  console.log(header('pkt/s'));
  for (const r of rows) console.log(line(r, (x) => x.pps));
  console.log('\nper core: frames forwarded per CPU-second of the forwarding process (user + system)');
  console.log(header('pkt/CPU-s'));
  for (const r of rows) console.log(line(r, (x) => x.ppsPerCpu));
  console.log(
    '\ndetails (whole run incl. warm-up): generated / forwarded / received at the far end / dropped at EAGAIN / lookup misses / CPU share',
  );
  for (const r of rows) {
    for (const [impl, x] of [
      ['dgram', r.dgram],
      ['native', r.native],
    ] as const) {
      console.log(
        `  ${r.direction} ${String(r.size).padStart(4)} B ${impl.padEnd(6)}: ${fmt(x.generated, 11)} / ${fmt(x.forwarded, 11)} / ${x.delivered === null ? '(TAP)'.padStart(11) : fmt(x.delivered, 11)} / ${fmt(x.eagainDrops, 9)} / ${fmt(x.missed, 6)} / ${fmt(x.cpuShare * 100, 3)}%`,
      );
    }
  }
}

await main();
