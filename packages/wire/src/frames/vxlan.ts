// VXLAN (RFC 7348 §5):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |R|R|R|R|I|R|R|R|            Reserved                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                VXLAN Network Identifier (VNI) |   Reserved    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Send: flags 0x08 (I), every reserved bit zero. Receive: the I flag must be
// set; reserved bits are ignored, as §5 requires.

export const VXLAN_HEADER_LENGTH = 8;
export const VXLAN_UDP_PORT = 4789;
/** The I flag: the VNI field is valid. */
export const VXLAN_FLAG_I = 0x08;
export const VXLAN_VNI_OFFSET = 4;

/**
 * Writes the 8-byte VXLAN header at `off`. The caller guarantees 8 writable
 * bytes and a valid VNI (1..2^24-1); bits above 24 are masked off.
 */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): void {
  buf[off] = VXLAN_FLAG_I;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = 0;
}

/**
 * The VNI of the VXLAN header at `off` (0..2^24-1), or -1 when fewer than 8
 * bytes are available (`length` = bytes from `off`, also bounded by the
 * buffer) or the I flag is clear. VNI 0 is returned as 0: whether a VNI is a
 * known network is the caller's lookup.
 */
export function readVxlanVni(buf: Uint8Array, off: number, length: number): number {
  if (!(off >= 0) || length < VXLAN_HEADER_LENGTH || off + VXLAN_HEADER_LENGTH > buf.length) return -1;
  if ((buf[off] & VXLAN_FLAG_I) === 0) return -1;
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}
