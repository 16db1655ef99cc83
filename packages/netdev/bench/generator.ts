/**
 * The benchmark's traffic generator, a child process on the other core. It
 * drives traffic at C speed (one sendmmsg of 64 per N-API call, in a tight
 * loop) into the forwarder.
 *
 *   node generator.js <namespace> tap <tapName> <frameLength> <seconds> <underlayTap>
 *     frames into the TAP through an AF_PACKET socket; reads and counts what
 *     the forwarder transmits on the underlay TAP (playing the far end of the wire)
 *   node generator.js <namespace> udp <targetPort> <frameLength> <seconds>
 *     VXLAN packets to the forwarder's UDP port
 *
 * Prints "ready" once set up, then one JSON line of counters when done.
 */
import { parseIpv4Address } from '@dvs/wire';
import { PacketBatch, enterNetworkNamespace, openTapSync, openTunnelSocketSync } from '../src/index.js';
import { PacketSocket } from '../src/testing/index.js';
import { innerFrame, vxlanPacket } from './traffic.js';

const BATCH = 64;
const [namespace, mode, target, lengthText, secondsText, underlayName] = process.argv.slice(2);
const frameLength = Number(lengthText);
const seconds = Number(secondsText);

enterNetworkNamespace(namespace);
const out = new PacketBatch(BATCH, 2048);
const slots = Uint32Array.from({ length: BATCH }, (_, i) => i);
const drain = new PacketBatch(BATCH, 2048);

let sent = 0;
let drained = 0;
if (mode === 'tap') {
  const wire = new PacketSocket(target);
  const underlay = openTapSync({ name: underlayName });
  for (let i = 0; i < BATCH; i++) {
    const f = innerFrame(i * 37, frameLength);
    f.copy(out.buffer, i * out.slotSize);
    out.offsets[i] = 0;
    out.lengths[i] = f.length;
  }
  console.log('ready');
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    sent += wire.send(out, slots, BATCH);
    drained += underlay.read(drain, 0);
  }
  underlay.close();
} else {
  const sock = openTunnelSocketSync({ address: '127.0.0.1', port: 0, sendBufferSize: 1 << 22 });
  for (let i = 0; i < BATCH; i++) {
    const p = vxlanPacket(i * 37, frameLength);
    p.copy(out.buffer, i * out.slotSize);
    out.offsets[i] = 0;
    out.lengths[i] = p.length;
    out.setIpv4Destination(i, parseIpv4Address('127.0.0.1') as number, Number(target));
  }
  console.log('ready');
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) sent += sock.send(out, slots, BATCH);
}
console.log(JSON.stringify({ sent, drained }));
process.exit(0);
