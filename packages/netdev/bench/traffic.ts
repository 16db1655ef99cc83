/**
 * What the benchmark's traffic looks like: inner Ethernet frames to one of
 * MAC_COUNT known MACs, and the same frames inside VXLAN (RFC 7348) for the
 * underlay direction. Shared by the forwarder and the generator process.
 */
export const MAC_COUNT = 256;
export const VXLAN_HEADER_LENGTH = 8;
export const VXLAN_FLAG_VNI_VALID = 0x08;
export const BENCH_VNI = 4242;
export const BENCH_ETHERTYPE = 0x88b5;
/** How many remote VTEPs the TAP → UDP direction spreads its MACs over. */
export const VTEP_COUNT = 4;

/** MAC i as a 48-bit number: 02:00:00:00:hi:lo (locally administered). */
export function macNumber(i: number): number {
  return 0x020000000000 + i;
}

/** An inner frame of `length` bytes to MAC `i`. */
export function innerFrame(i: number, length: number): Buffer {
  const f = Buffer.alloc(length);
  f.writeUIntBE(macNumber(i % MAC_COUNT), 0, 6);
  f.writeUIntBE(0x02ffffffff00 + (i % 251), 6, 6);
  f.writeUInt16BE(BENCH_ETHERTYPE, 12);
  for (let j = 14; j < length; j++) f[j] = j & 0xff;
  return f;
}

/** A VXLAN packet (UDP payload) carrying innerFrame(i, length). */
export function vxlanPacket(i: number, length: number): Buffer {
  const p = Buffer.alloc(VXLAN_HEADER_LENGTH + length);
  p[0] = VXLAN_FLAG_VNI_VALID;
  p.writeUIntBE(BENCH_VNI, 4, 3);
  innerFrame(i, length).copy(p, VXLAN_HEADER_LENGTH);
  return p;
}

/** Where the latency probe frames carry their send time (a big-endian u64 of nanoseconds). */
export const LATENCY_STAMP_OFFSET = 14;
