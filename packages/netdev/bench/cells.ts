/**
 * One benchmark cell: a port × a socket kind × a direction × a frame size,
 * measured with a generator child process (generator.ts).
 *
 * Ports:
 *  - tap: the addon's TAP, owned by the forwarder; the generator is its wire
 *    side (AF_PACKET, 64 frames per sendmmsg).
 *  - attach to a held TAP: the generator creates and holds the TAP, as QEMU
 *    does, and plays the VM on its fd (one write(2) per frame, as QEMU
 *    without vhost); the forwarder attaches to it (AttachedDevice).
 *  - attach to a veth end: the generator is the far end of the veth
 *    (AF_PACKET, 64 frames per sendmmsg), as fast as for the TAP port.
 * The attached port reads with recvmmsg or a TPACKET_V2 / V3 ring, and
 * writes with or without PACKET_QDISC_BYPASS.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  PacketBatch,
  openAttachedDeviceSync,
  openDgramTunnelSocket,
  openTapSync,
  openTunnelSocketSync,
} from '../src/index.js';
import type { AttachBatching, FrameDevice, TunnelSocket } from '../src/index.js';
import type { LabNamespace } from '../src/testing/index.js';
import { newCounters, startDecap, startEncap } from './forwarder.js';
import type { Counters, Vtep } from './forwarder.js';
import { BENCH_ETHERTYPE, LATENCY_STAMP_OFFSET, MAC_COUNT, macNumber } from './traffic.js';

export const WARMUP_S = 0.6;
export const MEASURE_S = Number(process.env.DVS_BENCH_SECONDS ?? 2.5);
const GENERATOR_JS = fileURLToPath(new URL('./generator.js', import.meta.url));

export type Direction = 'tap→udp' | 'udp→tap';
/** What the forwarder's port is. */
export type PortKind =
  { kind: 'tap' } | { kind: 'attach'; target: 'held-tap' | 'veth'; batching: AttachBatching; qdiscBypass: boolean };

export interface Config {
  label: string;
  socket: 'dgram' | 'native';
  port: PortKind;
  /** Only measured in these directions (the rings change reads, qdisc bypass writes). */
  directions: readonly Direction[];
}

export interface Result {
  pps: number;
  /** Frames forwarded per second of CPU this process used (user + system): robust to a busy machine. */
  ppsPerCpu: number;
  cpuShare: number;
  gbps: number;
  generated: number;
  forwarded: number;
  /** Frames that reached the far end (underlay for TAP → UDP, the VM's fd for UDP → attached port); null when not counted. */
  delivered: number | null;
  missed: number;
  eagainDrops: number;
  /** Frames the port's kernel queue dropped before we read them (attached ports: PACKET_STATISTICS). */
  kernelDrops: number;
}

export interface Setup {
  ns: LabNamespace;
  /** The TAP (owned by the forwarder, or held by the generator). */
  portName: string;
  /** A veth pair, both ends up: the forwarder attaches to vethName, the generator uses vethPeer. */
  vethName: string;
  vethPeer: string;
  underlayName: string;
  underlayAddress: string;
  fdb: Map<number, Vtep>;
}

/** The generator, started; `go()` releases one that holds a TAP; `done()` waits for its counters. */
interface Generator {
  go(): void;
  done(): Promise<{ sent: number; drained: number }>;
}

async function startGenerator(args: string[]): Promise<Generator> {
  const child = spawn(process.execPath, [GENERATOR_JS, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.value !== 'ready') throw new Error(`generator did not start: ${String(first.value)}`);
  return {
    go: () => child.stdin.write('go\n'),
    done: async () => {
      const last = await iterator.next();
      lines.close();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      return JSON.parse(String(last.value)) as { sent: number; drained: number };
    },
  };
}

/** Opens the forwarder's port: its own TAP, or an attachment (to the TAP the generator holds, or to a veth end). */
function openPort(setup: Setup, port: PortKind): FrameDevice {
  return setup.ns.run(() => {
    if (port.kind === 'tap') return openTapSync({ name: setup.portName, mtu: 1500 });
    const name = port.target === 'veth' ? setup.vethName : setup.portName;
    return openAttachedDeviceSync({ name, batching: port.batching, qdiscBypass: port.qdiscBypass });
  });
}

/** The interface the generator sends into and drains: the TAP's or the veth's far side. */
function wireSide(setup: Setup, port: PortKind): string {
  return port.kind === 'attach' && port.target === 'veth' ? setup.vethPeer : setup.portName;
}

function holdsTap(port: PortKind): boolean {
  return port.kind === 'attach' && port.target === 'held-tap';
}

async function openSocket(config: Config, direction: Direction, setup: Setup): Promise<TunnelSocket> {
  // TAP → UDP sends from the underlay address; UDP → TAP receives from the generator on loopback.
  const address = direction === 'tap→udp' ? setup.underlayAddress : '127.0.0.1';
  const options = { address, port: 0, recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 };
  return config.socket === 'native' ? openTunnelSocketSync(options) : openDgramTunnelSocket(options);
}

export async function runCell(setup: Setup, config: Config, direction: Direction, size: number): Promise<Result> {
  const { ns } = setup;
  const holds = holdsTap(config.port);
  const seconds = String(WARMUP_S + MEASURE_S + 0.2);
  const socket = await openSocket(config, direction, setup);
  let port: FrameDevice | null = null;
  const c = newCounters();
  try {
    // A port the forwarder owns or a veth exists before the generator starts;
    // a TAP the generator holds only after.
    if (!holds) port = openPort(setup, config.port);
    let generator: Generator;
    if (direction === 'tap→udp') {
      const mode = holds ? 'hold-tap' : 'tap';
      generator = await startGenerator([
        ns.name,
        mode,
        wireSide(setup, config.port),
        String(size),
        seconds,
        setup.underlayName,
      ]);
    } else {
      const farEnd = config.port.kind === 'tap' ? [] : [`${holds ? 'hold' : 'wire'}:${wireSide(setup, config.port)}`];
      generator = await startGenerator([ns.name, 'udp', String(socket.localPort), String(size), seconds, ...farEnd]);
    }
    if (holds) port = openPort(setup, config.port);
    const device = port as FrameDevice;
    let stop: () => void;
    if (direction === 'tap→udp') {
      stop = startEncap(device, socket, setup.fdb, c);
    } else {
      const local = new Set<number>();
      for (let i = 0; i < MAC_COUNT; i++) local.add(macNumber(i));
      stop = startDecap(socket, device, local, c);
    }
    // A longer queue absorbs the moments a process is descheduled on a shared machine.
    if (config.port.kind === 'tap' || holds) ns.ip('link', 'set', setup.portName, 'txqueuelen', '3000');
    if (holds) generator.go();
    const m = await measure(c);
    // Stop before the generator exits: with it goes the TAP it holds.
    stop();
    const child = await generator.done();
    return {
      pps: m.pps,
      ppsPerCpu: m.ppsPerCpu,
      cpuShare: m.cpuShare,
      gbps: (m.bytesPerS * 8) / 1e9,
      generated: child.sent,
      forwarded: c.forwarded,
      delivered: direction === 'tap→udp' || config.port.kind === 'attach' ? child.drained : null,
      missed: c.missed,
      eagainDrops: c.eagainDrops,
      kernelDrops: device.stats?.rxQueueDrops ?? 0,
    };
  } finally {
    socket.close();
    port?.close();
  }
}

/** Samples our counters over the measurement window, after the warm-up. */
async function measure(c: Counters): Promise<{ pps: number; ppsPerCpu: number; cpuShare: number; bytesPerS: number }> {
  await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
  const cpu = process.cpuUsage();
  const start = { t: performance.now(), n: c.forwarded, b: c.bytes };
  await new Promise((resolve) => setTimeout(resolve, MEASURE_S * 1000));
  const end = { t: performance.now(), n: c.forwarded, b: c.bytes };
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const seconds = (end.t - start.t) / 1000;
  return {
    pps: (end.n - start.n) / seconds,
    ppsPerCpu: (end.n - start.n) / cpuSeconds,
    cpuShare: cpuSeconds / seconds,
    bytesPerS: (end.b - start.b) / seconds,
  };
}

/** One-way latency, generator send → forwarder read, of one frame per millisecond: sorted, in µs. */
export async function runLatency(setup: Setup, portKind: PortKind, count: number): Promise<number[]> {
  const holds = holdsTap(portKind);
  let port: FrameDevice | null = holds ? null : openPort(setup, portKind);
  const how = holds ? 'hold' : 'wire';
  const generator = await startGenerator([setup.ns.name, 'latency', how, wireSide(setup, portKind), String(count)]);
  const samples: number[] = [];
  try {
    if (holds) port = openPort(setup, portKind);
    const device = port as FrameDevice;
    const batch = new PacketBatch(64, 2048);
    device.onReadable(() => {
      let n: number;
      try {
        n = device.read(batch, 64);
      } catch {
        device.onReadable(null); // the generator quit, and its TAP went with it
        return;
      }
      const now = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const start = batch.start(i);
        if (batch.buffer.readUInt16BE(start + 12) !== BENCH_ETHERTYPE) continue;
        const sent = batch.buffer.readBigUInt64BE(start + LATENCY_STAMP_OFFSET);
        samples.push(Number(now - sent) / 1000);
      }
    });
    generator.go();
    await generator.done();
    device.onReadable(null);
  } finally {
    port?.close();
  }
  return samples.sort((a, b) => a - b);
}
