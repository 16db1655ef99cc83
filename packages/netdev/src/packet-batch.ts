/**
 * Bytes a slot needs beyond its headroom to hold any frame a device with
 * offloads reads or takes: a 12-byte virtio-net header, an 802.1Q tag and a
 * 64 KiB super-frame (the kernel's GSO limit counts the Ethernet header), with
 * room to spare. A batch of 64 such slots is about 4 MiB.
 */
export const SUPER_FRAME_SLOT_BYTES = 65536 + 64;

/**
 * PacketBatch: the unit of I/O between the data path and every device.
 *
 * One preallocated Buffer is cut into `capacity` fixed-size slots of `slotSize`
 * bytes. Slot i holds one packet at `buffer[i * slotSize + offsets[i] ..
 * + lengths[i]]`. Readers place packets at a caller-chosen `headroom` so a tunnel
 * header can later be written in front of the frame without a copy (lower
 * offsets[i], raise lengths[i]). Nothing here allocates per packet: views of
 * every slot are made once.
 *
 * UDP metadata per slot (filled by TunnelSocket.recv, read by TunnelSocket.send):
 *  - family[i]: 4 or 6 (0 = unset)
 *  - ipv4[i]: the IPv4 address as an unsigned 32-bit number (family 4)
 *  - ipv6: 16 bytes per slot at ipv6[i * 16] (family 6)
 *  - port[i]: UDP port
 *  - segmentSize[i]: 0 = the slot holds one datagram. n > 0: it holds several
 *    back to back, n bytes each (the last may be shorter): a super-datagram,
 *    as the native socket's recv() returns with UDP_GRO on
 *    (TunnelSocket.receivesSuperDatagrams; SuperDatagramViews splits it).
 *    The native recv() sets it for every slot it fills. (send() does not
 *    read it: it finds runs to glue into UDP GSO messages itself.)
 *  - sourcePort[i]: send() only: the local UDP port to send from, one of the
 *    socket's source-port pool (per-flow entropy, RFC 7348 §5); 0 = the
 *    socket's own port. recv() leaves it alone.
 *
 * Ownership: a batch belongs to whoever created it. Devices only read from or
 * write into it during a call and keep no reference afterwards.
 */
export class PacketBatch {
  readonly buffer: Buffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly family: Uint8Array;
  readonly ipv4: Uint32Array;
  readonly ipv6: Buffer;
  readonly port: Uint16Array;
  readonly segmentSize: Uint16Array;
  readonly sourcePort: Uint16Array;
  /** slots[i] is a view of slot i's whole slot (slotSize bytes), made once. */
  readonly slots: readonly Buffer[];

  /**
   * `memory`: cut the slots from these bytes (at least capacity * slotSize)
   * instead of new ones: a view of another batch's memory
   * (SuperDatagramViews), or memory with room past the last slot.
   */
  constructor(
    readonly capacity: number,
    readonly slotSize: number,
    memory?: Buffer,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
      throw new RangeError(`PacketBatch capacity must be 1..1024, got ${capacity}`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize > 262144) {
      throw new RangeError(`PacketBatch slotSize must be 64..262144, got ${slotSize}`);
    }
    if (memory !== undefined && memory.length < capacity * slotSize) {
      throw new RangeError(`PacketBatch memory must hold ${capacity * slotSize} bytes, has ${memory.length}`);
    }
    this.buffer = memory ?? Buffer.alloc(capacity * slotSize);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.family = new Uint8Array(capacity);
    this.ipv4 = new Uint32Array(capacity);
    this.ipv6 = Buffer.alloc(capacity * 16);
    this.port = new Uint16Array(capacity);
    this.segmentSize = new Uint16Array(capacity);
    this.sourcePort = new Uint16Array(capacity);
    const slots: Buffer[] = [];
    for (let i = 0; i < capacity; i++) slots.push(this.buffer.subarray(i * slotSize, (i + 1) * slotSize));
    this.slots = slots;
  }

  /** Absolute start of packet i inside `buffer`. */
  start(i: number): number {
    return i * this.slotSize + this.offsets[i];
  }

  /** Copies `bytes` into slot i at `headroom` as its packet; false (nothing written) when they do not fit. */
  putPacket(i: number, bytes: Uint8Array, headroom: number): boolean {
    if (bytes.length > this.slotSize - headroom) return false;
    this.buffer.set(bytes, i * this.slotSize + headroom);
    this.offsets[i] = headroom;
    this.lengths[i] = bytes.length;
    return true;
  }

  /** Copies packet `from` of `src` into slot `to` of this batch at `headroom`, with its UDP metadata. */
  copyFrom(src: PacketBatch, from: number, to: number, headroom: number): void {
    const len = src.lengths[from];
    src.buffer.copy(this.buffer, to * this.slotSize + headroom, src.start(from), src.start(from) + len);
    this.offsets[to] = headroom;
    this.lengths[to] = len;
    this.family[to] = src.family[from];
    this.ipv4[to] = src.ipv4[from];
    this.port[to] = src.port[from];
    this.segmentSize[to] = src.segmentSize[from];
    this.sourcePort[to] = src.sourcePort[from];
    if (src.family[from] === 6) src.ipv6.copy(this.ipv6, to * 16, from * 16, from * 16 + 16);
  }

  /** Sets slot i's destination to an IPv4 address (as uint32) and port. */
  setIpv4Destination(i: number, addr: number, port: number): void {
    this.family[i] = 4;
    this.ipv4[i] = addr >>> 0;
    this.port[i] = port;
  }

  /** Sets slot i's destination to an IPv6 address (16 bytes) and port. */
  setIpv6Destination(i: number, addr: Uint8Array, port: number): void {
    this.family[i] = 6;
    this.ipv6.set(addr, i * 16);
    this.port[i] = port;
  }
}
