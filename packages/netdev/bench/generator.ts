/**
 * The benchmark's traffic generator, a child process on the other core. It
 * drives traffic at C speed (64 frames per N-API call, in a tight loop) into
 * the forwarder.
 *
 *   node generator.js <namespace> tap <tapName> <frameLength> <seconds> <underlayTap>
 *     frames into the forwarder's TAP through an AF_PACKET socket; reads and
 *     counts what the forwarder transmits on the underlay TAP (playing the
 *     far end of the wire)
 *   node generator.js <namespace> hold-tap <tapName> <frameLength> <seconds> <underlayTap>
 *     the same, but this process creates and holds the TAP, as QEMU does, and
 *     writes the frames into it as a VM would (the forwarder attaches to it)
 *   node generator.js <namespace> udp <targetPort> <frameLength> <seconds> [hold:<tap> | wire:<interface>]
 *     VXLAN packets to the forwarder's UDP port; with hold:<tap>, this
 *     process also creates and holds that TAP (the VM side of an attached
 *     port) and reads and counts what arrives on it; with wire:<interface>
 *     it counts what arrives on that interface (the far end of a veth)
 *   node generator.js <namespace> latency <wire|hold> <tapName> <count>
 *     one frame per millisecond carrying process.hrtime.bigint() at send
 *     time (a monotonic clock shared by every process of the machine), into
 *     the forwarder's TAP (wire: AF_PACKET) or into a TAP held here (hold)
 *
 * Prints "ready" once set up. Modes that hold a TAP then wait for "go" on
 * stdin (the forwarder attaches first). Prints one JSON line of counters when done.
 */
import { createInterface } from 'node:readline';
import { parseIpv4Address } from '@dvs/wire';
import { PacketBatch, enterNetworkNamespace, openTapSync, openTunnelSocketSync } from '../src/index.js';
import type { TapDevice } from '../src/index.js';
import { PacketSocket } from '../src/testing/index.js';
import { LATENCY_STAMP_OFFSET, innerFrame, vxlanPacket } from './traffic.js';

const BATCH = 64;
const [namespace, mode, ...args] = process.argv.slice(2);

enterNetworkNamespace(namespace);
const out = new PacketBatch(BATCH, 2048);
const slots = Uint32Array.from({ length: BATCH }, (_, i) => i);
const drain = new PacketBatch(BATCH, 2048);

function fill(make: (i: number) => Buffer): void {
  for (let i = 0; i < BATCH; i++) {
    const p = make(i);
    p.copy(out.buffer, i * out.slotSize);
    out.offsets[i] = 0;
    out.lengths[i] = p.length;
  }
}

async function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;
  lines.close();
}

/** Runs `step` in a tight loop for `seconds`. */
function loopFor(seconds: number, step: () => void): void {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) step();
}

let sent = 0;
let drained = 0;
let held: TapDevice | null = null;
if (mode === 'tap' || mode === 'hold-tap') {
  const [tapName, lengthText, secondsText, underlayName] = args;
  const underlay = openTapSync({ name: underlayName });
  fill((i) => innerFrame(i * 37, Number(lengthText)));
  let send: () => number;
  if (mode === 'tap') {
    const wire = new PacketSocket(tapName);
    send = () => wire.send(out, slots, BATCH);
  } else {
    const tap = (held = openTapSync({ name: tapName }));
    send = () => tap.write(out, slots, BATCH);
  }
  console.log('ready');
  if (held !== null) await waitForGo();
  loopFor(Number(secondsText), () => {
    sent += send();
    drained += underlay.read(drain, 0);
  });
  underlay.close();
} else if (mode === 'udp') {
  const [target, lengthText, secondsText, farEnd] = args;
  const sock = openTunnelSocketSync({ address: '127.0.0.1', port: 0, sendBufferSize: 1 << 22 });
  fill((i) => vxlanPacket(i * 37, Number(lengthText)));
  for (let i = 0; i < BATCH; i++) out.setIpv4Destination(i, parseIpv4Address('127.0.0.1') as number, Number(target));
  let drainFarEnd = (): number => 0;
  if (farEnd?.startsWith('hold:')) {
    const tap = (held = openTapSync({ name: farEnd.slice(5) }));
    drainFarEnd = () => tap.read(drain, 0);
  } else if (farEnd?.startsWith('wire:')) {
    const wire = new PacketSocket(farEnd.slice(5));
    drainFarEnd = () => wire.recv(drain, 0);
  }
  console.log('ready');
  if (held !== null) await waitForGo();
  loopFor(Number(secondsText), () => {
    sent += sock.send(out, slots, BATCH);
    drained += drainFarEnd();
  });
} else if (mode === 'latency') {
  const [how, tapName, countText] = args;
  const frame = innerFrame(1, 64);
  let send: () => number;
  if (how === 'wire') {
    const wire = new PacketSocket(tapName);
    send = () => wire.send(out, slots, 1);
  } else {
    const tap = (held = openTapSync({ name: tapName }));
    send = () => tap.write(out, slots, 1);
  }
  console.log('ready');
  await waitForGo();
  for (let i = 0; i < Number(countText); i++) {
    frame.writeBigUInt64BE(process.hrtime.bigint(), LATENCY_STAMP_OFFSET);
    frame.copy(out.buffer, 0);
    out.offsets[0] = 0;
    out.lengths[0] = frame.length;
    sent += send();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
held?.close();
console.log(JSON.stringify({ sent, drained }));
process.exit(0);
