/**
 * The datagrams of a super-datagram as a PacketBatch of their own, without a
 * copy. With UDP_GRO on (TunnelSocket.receivesSuperDatagrams) recv() may fill
 * a slot with several datagrams of one source back to back, each
 * segmentSize[i] bytes but the last. Seen through a batch whose slotSize is
 * that size and whose memory starts at the super-datagram, datagram j is slot
 * j at offset 0: every consumer of batches (a pipeline, a device's write)
 * takes them as they are. What lies in front of datagram j is the tail of
 * datagram j - 1: headroom 0, so a consumer may only write in front of a
 * datagram's payload into that datagram's own leading header bytes (the 8
 * bytes of a decapsulated tunnel header, say).
 *
 * Views are made once per (place, datagram size) and kept (at most
 * MAX_VIEWS; past that the cache starts over): the steady state allocates
 * nothing. Datagrams smaller than MIN_VIEW_SEGMENT cannot be viewed (a
 * batch's slots are at least 64 bytes, at most 1024 of them): view()
 * returns null and the caller copies them.
 */
import { PacketBatch } from './packet-batch.js';

/** Most bytes one super-datagram holds: UDP's 16-bit length (the kernel's GRO stops there). */
export const MAX_SUPER_DATAGRAM_BYTES = 65535;
/** The smallest datagram size a view takes (PacketBatch's smallest slot). */
export const MIN_VIEW_SEGMENT = 64;
const MAX_VIEWS = 256;

/** Datagrams in slot i of a received batch: 1 for a plain one, each one a super-datagram holds. */
export function datagramsInSlot(batch: PacketBatch, i: number): number {
  const size = batch.segmentSize[i];
  return size === 0 ? 1 : Math.ceil(batch.lengths[i] / size);
}

/** Slot `from`'s 16 IPv6 address bytes into slot `to`'s: byte by byte, as Buffer.copy with bounds makes a view per call. */
function copyAddress(src: Buffer, from: number, dst: Buffer, to: number): void {
  for (let k = 0; k < 16; k++) dst[to * 16 + k] = src[from * 16 + k];
}

export class SuperDatagramViews {
  /**
   * The batch to receive into: `capacity` slots of `slotSize`, in memory
   * that runs MAX_SUPER_DATAGRAM_BYTES past the last slot, so a view of the
   * last slot never overhangs it.
   */
  readonly batch: PacketBatch;
  private readonly views = new Map<number, PacketBatch>();

  constructor(capacity: number, slotSize: number) {
    this.batch = new PacketBatch(capacity, slotSize, Buffer.alloc(capacity * slotSize + MAX_SUPER_DATAGRAM_BYTES));
  }

  /** Datagrams in slot i of the receive batch: 1 for a plain one. */
  datagramsIn(i: number): number {
    return datagramsInSlot(this.batch, i);
  }

  /**
   * A batch whose slots 0..datagramsIn(i)-1 are the datagrams of slot i of
   * the receive batch, in order, each at offset 0 with its length and the
   * super-datagram's source address (family, ipv4, ipv6, port). Valid until
   * the next recv() into the receive batch. null: slot i holds a plain
   * datagram, or datagrams smaller than MIN_VIEW_SEGMENT.
   */
  view(i: number): PacketBatch | null {
    const b = this.batch;
    const size = b.segmentSize[i];
    if (size < MIN_VIEW_SEGMENT) return null;
    const start = b.start(i);
    const length = b.lengths[i];
    const count = Math.ceil(length / size);
    const key = start * 65536 + size;
    let v = this.views.get(key);
    if (v === undefined) {
      if (this.views.size >= MAX_VIEWS) this.views.clear();
      const capacity = Math.ceil(MAX_SUPER_DATAGRAM_BYTES / size);
      v = new PacketBatch(capacity, size, b.buffer.subarray(start, start + capacity * size));
      this.views.set(key, v);
    }
    if (count > v.capacity) return null;
    const family = b.family[i];
    const ipv4 = b.ipv4[i];
    const port = b.port[i];
    for (let j = 0; j < count; j++) {
      v.offsets[j] = 0;
      v.lengths[j] = j < count - 1 ? size : length - j * size;
      v.family[j] = family;
      v.ipv4[j] = ipv4;
      v.port[j] = port;
      v.segmentSize[j] = 0;
      if (family === 6) copyAddress(b.ipv6, i, v.ipv6, j);
    }
    return v;
  }

  /**
   * Copies datagram j of slot i of the receive batch into slot `to` of
   * `into` at `headroom`, with its source address: for what view() cannot
   * show. Returns false when it does not fit the slot.
   */
  copyDatagram(i: number, j: number, into: PacketBatch, to: number, headroom: number): boolean {
    const b = this.batch;
    const size = b.segmentSize[i] === 0 ? b.lengths[i] : b.segmentSize[i];
    const from = b.start(i) + j * size;
    const length = Math.min(size, b.lengths[i] - j * size);
    if (length <= 0 || headroom + length > into.slotSize) return false;
    b.buffer.copy(into.buffer, to * into.slotSize + headroom, from, from + length);
    into.offsets[to] = headroom;
    into.lengths[to] = length;
    into.family[to] = b.family[i];
    into.ipv4[to] = b.ipv4[i];
    into.port[to] = b.port[i];
    into.segmentSize[to] = 0;
    if (b.family[i] === 6) copyAddress(b.ipv6, i, into.ipv6, to);
    return true;
  }
}
