// TCP header (RFC 9293 §3.1): the fields segmentation and coalescing touch.
// dvs never terminates TCP; it only cuts super-frames into segments and glues
// segments back together, so this is offsets and flags, not a decoder.
//
//   0               8              16              24             31
//   |          Source Port          |       Destination Port        |
//   |                        Sequence Number                        |
//   |                    Acknowledgment Number                      |
//   | DOff  | Rsrvd |C|E|U|A|P|R|S|F|            Window             |
//   |           Checksum            |         Urgent Pointer        |
//   |                    Options (DOff > 5) ...                     |

export const TCP_HEADER_MIN_LENGTH = 20;
export const TCP_HEADER_MAX_LENGTH = 60;
export const TCP_SEQ_OFFSET = 4;
export const TCP_ACK_OFFSET = 8;
/** The data offset (header length in 32-bit words) is the high nibble of this byte. */
export const TCP_DATA_OFFSET_OFFSET = 12;
export const TCP_FLAGS_OFFSET = 13;
export const TCP_WINDOW_OFFSET = 14;
export const TCP_CHECKSUM_OFFSET = 16;

export const TCP_FLAG_FIN = 0x01;
export const TCP_FLAG_SYN = 0x02;
export const TCP_FLAG_RST = 0x04;
export const TCP_FLAG_PSH = 0x08;
export const TCP_FLAG_ACK = 0x10;
export const TCP_FLAG_URG = 0x20;
export const TCP_FLAG_ECE = 0x40;
export const TCP_FLAG_CWR = 0x80;

/**
 * The TCP header length (20..60) of the segment at `off` with `length` bytes
 * available, or -1 when the data offset is below 5 or the header does not fit.
 */
export function readTcpHeaderLength(buf: Uint8Array, off: number, length: number): number {
  if (!(off >= 0) || length < TCP_HEADER_MIN_LENGTH || off + TCP_HEADER_MIN_LENGTH > buf.length) return -1;
  const headerLength = (buf[off + TCP_DATA_OFFSET_OFFSET] >>> 4) * 4;
  if (headerLength < TCP_HEADER_MIN_LENGTH || headerLength > length || off + headerLength > buf.length) return -1;
  return headerLength;
}
