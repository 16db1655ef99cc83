/**
 * A stand-in for QEMU in tests: a separate process that creates a TAP in a
 * namespace and holds its fd (TUNSETIFF), as QEMU does for a VM's NIC, so a
 * port can only attach to it, never open it.
 *
 *   node tap-holder.js <namespace> <tapName> [<guestNamespace> <guestName>]
 *
 * Prints "ready" once the TAP exists. Without a guest, every test frame it
 * reads from the TAP (what the port wrote to the "VM") is recorded and
 * answered with a copy whose tag is tag + REFLECT_OFFSET. With a guest, it
 * also creates (and holds) a second TAP, `guestName` in `guestNamespace`, and
 * relays every frame between the two, as QEMU relays between its TAP and
 * the guest's virtio NIC: the guest namespace's kernel is the VM (give the
 * guest TAP its MAC and address and it pings). Test frames are recorded in
 * both modes. Driven by TapHolder (tap-holder-client.ts). Commands on stdin,
 * one per line:
 *   send <count> <firstTag> <length>   the VM transmits test frames
 *   report                             prints {"received":[tags…]} as one line
 * It exits when its stdin closes (the test that started it went away).
 */
import { createInterface } from 'node:readline';
import { enterNetworkNamespace } from '../netns.js';
import { PacketBatch } from '../packet-batch.js';
import { openTapSync, type TapDevice } from '../tap-device.js';
import { REFLECT_OFFSET } from './tap-holder-client.js';
import { isTestFrame, packetsOf, place, testFrame } from './test-frames.js';

const [namespace, name, guestNamespace, guestName] = process.argv.slice(2);

function openIn(ns: string, tapName: string): TapDevice {
  const restore = enterNetworkNamespace(ns);
  try {
    return openTapSync({ name: tapName });
  } finally {
    restore();
  }
}

const tap = openIn(namespace, name);
const guest = guestNamespace !== undefined && guestName !== undefined ? openIn(guestNamespace, guestName) : null;

const received: number[] = [];
const rx = new PacketBatch(64, 9216);
const out = new PacketBatch(64, 9216);
const slots = Uint32Array.from({ length: 64 }, (_, i) => i);

/** Records the test frames of a batch just read from the TAP. */
function record(n: number): void {
  for (const frame of packetsOf(rx, n)) if (isTestFrame(frame)) received.push(frame.readUInt32BE(14));
}

if (guest === null) {
  tap.onReadable(() => {
    const n = tap.read(rx, 0);
    record(n);
    let k = 0;
    for (const frame of packetsOf(rx, n)) {
      if (!isTestFrame(frame)) continue;
      const tag = frame.readUInt32BE(14);
      if (tag >= REFLECT_OFFSET) continue;
      frame.writeUInt32BE(tag + REFLECT_OFFSET, 14);
      place(out, k++, frame, 0);
    }
    if (k > 0) tap.write(out, slots, k);
  });
} else {
  // QEMU's loop: what the port writes into the TAP reaches the guest NIC, and back. Frames the other side refuses (EAGAIN) are lost, as on a real NIC.
  tap.onReadable(() => {
    for (let n = tap.read(rx, 0); n > 0; n = n === rx.capacity ? tap.read(rx, 0) : 0) {
      record(n);
      guest.write(rx, slots, n);
    }
  });
  guest.onReadable(() => {
    for (let n = guest.read(rx, 0); n > 0; n = n === rx.capacity ? guest.read(rx, 0) : 0) tap.write(rx, slots, n);
  });
}

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const [command, ...args] = line.trim().split(/\s+/);
  if (command === 'send') {
    const [count, first, length] = args.map(Number);
    for (let i = 0; i < count; i++) place(out, i, testFrame(first + i, length), 0);
    const sent = tap.write(out, slots, count);
    console.log(JSON.stringify({ sent }));
  } else if (command === 'report') {
    console.log(JSON.stringify({ received }));
  }
});
// The test that started us is gone (or done with us): so are we, and our TAPs with our fds.
commands.on('close', () => process.exit(0));
console.log('ready');
