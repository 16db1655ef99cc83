/**
 * The two loops the benchmark measures, shaped like the agent's data path
 * (DESIGN.md "A frame's way"), with the per-frame work it will have to do:
 *
 * TAP → UDP (encap):
 *   1. read a batch from the TAP at HEADROOM
 *   2. per frame: look up the destination MAC → remote VTEP
 *   3. write the 8-byte VXLAN header in place in front of the frame
 *   4. set the slot's destination, send the batch (one call)
 * UDP → TAP (decap):
 *   1. recv a batch (source address per packet)
 *   2. per packet: check VXLAN flags and VNI, look up the inner destination MAC
 *   3. strip the header by moving the offset, write the batch to the TAP
 *
 * Frames that miss the lookup or fail a check are dropped and counted; a
 * short send()/write() (EAGAIN) drops the rest of the batch and counts it.
 */
import { PacketBatch } from '../src/index.js';
import type { FrameDevice, TunnelSocket } from '../src/index.js';
import { BENCH_VNI, VXLAN_FLAG_VNI_VALID, VXLAN_HEADER_LENGTH } from './traffic.js';

/** Room for outer headers; the UDP socket adds IP and UDP, we add VXLAN. */
export const HEADROOM = 64;
export const BATCH = 64;
/** Batches per wake-up before yielding to the loop (readiness is level-triggered, so we are called again). */
const BATCHES_PER_WAKEUP = 16;

export interface Counters {
  forwarded: number;
  bytes: number;
  missed: number;
  eagainDrops: number;
}

export interface Vtep {
  ipv4: number;
  port: number;
}

export function newCounters(): Counters {
  return { forwarded: 0, bytes: 0, missed: 0, eagainDrops: 0 };
}

/** Watches the TAP and forwards everything it reads to the VTEP of the destination MAC. */
export function startEncap(tap: FrameDevice, socket: TunnelSocket, fdb: Map<number, Vtep>, c: Counters): () => void {
  const batch = new PacketBatch(BATCH, 2048);
  const slots = new Uint32Array(BATCH);
  const buf = batch.buffer;
  tap.onReadable(() => {
    for (let round = 0; round < BATCHES_PER_WAKEUP; round++) {
      const n = tap.read(batch, HEADROOM);
      let out = 0;
      for (let i = 0; i < n; i++) {
        const start = batch.start(i);
        const vtep = fdb.get(buf.readUIntBE(start, 6));
        if (vtep === undefined) {
          c.missed++;
          continue;
        }
        const h = start - VXLAN_HEADER_LENGTH;
        buf.writeUInt32BE(VXLAN_FLAG_VNI_VALID << 24, h);
        buf.writeUInt32BE(BENCH_VNI << 8, h + 4);
        batch.offsets[i] -= VXLAN_HEADER_LENGTH;
        batch.lengths[i] += VXLAN_HEADER_LENGTH;
        batch.setIpv4Destination(i, vtep.ipv4, vtep.port);
        slots[out++] = i;
      }
      const taken = socket.send(batch, slots, out);
      c.forwarded += taken;
      c.eagainDrops += out - taken;
      for (let k = 0; k < taken; k++) c.bytes += batch.lengths[slots[k]] - VXLAN_HEADER_LENGTH;
      if (n < BATCH) return;
    }
  });
  return () => tap.onReadable(null);
}

/** Watches the socket and writes every valid VXLAN packet's inner frame to the TAP. */
export function startDecap(socket: TunnelSocket, tap: FrameDevice, localMacs: Set<number>, c: Counters): () => void {
  const batch = new PacketBatch(BATCH, 2048);
  const slots = new Uint32Array(BATCH);
  const buf = batch.buffer;
  socket.onReadable(() => {
    for (let round = 0; round < BATCHES_PER_WAKEUP; round++) {
      const n = socket.recv(batch, HEADROOM);
      let out = 0;
      for (let i = 0; i < n; i++) {
        const start = batch.start(i);
        const len = batch.lengths[i];
        if (
          len < VXLAN_HEADER_LENGTH + 14 ||
          buf[start] !== VXLAN_FLAG_VNI_VALID ||
          buf.readUIntBE(start + 4, 3) !== BENCH_VNI ||
          !localMacs.has(buf.readUIntBE(start + VXLAN_HEADER_LENGTH, 6))
        ) {
          c.missed++;
          continue;
        }
        batch.offsets[i] += VXLAN_HEADER_LENGTH;
        batch.lengths[i] -= VXLAN_HEADER_LENGTH;
        slots[out++] = i;
      }
      const taken = tap.write(batch, slots, out);
      c.forwarded += taken;
      c.eagainDrops += out - taken;
      for (let k = 0; k < taken; k++) c.bytes += batch.lengths[slots[k]];
      if (n < BATCH) return;
    }
  });
  return () => socket.onReadable(null);
}
