/**
 * A stand-in for QEMU in tests: a separate process that creates a TAP in a
 * namespace and holds its fd (TUNSETIFF), as QEMU does for a VM's NIC, so a
 * port can only attach to it, never open it.
 *
 *   node tap-holder.js <namespace> <tapName>
 *
 * Prints "ready" once the TAP exists. Every test frame it reads from the TAP
 * (what the port wrote to the "VM") is recorded and answered with a copy
 * whose tag is tag + REFLECT_OFFSET. Driven by TapHolder (tap-holder-client.ts). Commands on stdin, one per line:
 *   send <count> <firstTag> <length>   the VM transmits test frames
 *   report                             prints {"received":[tags…]} as one line
 */
import { createInterface } from 'node:readline';
import { PacketBatch, enterNetworkNamespace, openTapSync } from '../../src/index.js';
import { isTestFrame, packetsOf, place, testFrame } from '../compliance/frames.js';
import { REFLECT_OFFSET } from './tap-holder-client.js';

const [namespace, name] = process.argv.slice(2);
const restore = enterNetworkNamespace(namespace);
const tap = openTapSync({ name });
restore();

const received: number[] = [];
const rx = new PacketBatch(64, 2048);
const out = new PacketBatch(64, 2048);
tap.onReadable(() => {
  const n = tap.read(rx, 0);
  let k = 0;
  for (const frame of packetsOf(rx, n)) {
    if (!isTestFrame(frame)) continue;
    const tag = frame.readUInt32BE(14);
    received.push(tag);
    if (tag >= REFLECT_OFFSET) continue;
    frame.writeUInt32BE(tag + REFLECT_OFFSET, 14);
    place(out, k++, frame, 0);
  }
  if (k > 0)
    tap.write(
      out,
      Array.from({ length: k }, (_, i) => i),
      k,
    );
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...args] = line.trim().split(/\s+/);
  if (command === 'send') {
    const [count, first, length] = args.map(Number);
    for (let i = 0; i < count; i++) place(out, i, testFrame(first + i, length), 0);
    const sent = tap.write(
      out,
      Array.from({ length: count }, (_, i) => i),
      count,
    );
    console.log(JSON.stringify({ sent }));
  } else if (command === 'report') {
    console.log(JSON.stringify({ received }));
  }
});
console.log('ready');
