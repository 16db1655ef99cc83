// Classic libpcap file format (what tshark, tcpdump and Wireshark all read),
// built as bytes by a pure function: the caller writes them to a file.
//
//   global header (24): magic a1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen, linktype
//   per record (16 + n): ts_sec, ts_usec, captured length, original length, bytes
//
// Written little-endian; readers detect the byte order from the magic.

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
export const PCAP_DEFAULT_SNAPLEN = 262144;

export interface PcapRecord {
  data: Uint8Array;
  /** Capture time in microseconds since the epoch; default: the record's index in milliseconds (deterministic output). */
  timestampMicros?: number;
}

export interface PcapOptions {
  linkType?: number;
  snapLength?: number;
}

/** The bytes of a pcap file holding `records` in order. Records longer than the snap length are cut, as capture does. */
export function buildPcap(records: readonly (PcapRecord | Uint8Array)[], options: PcapOptions = {}): Buffer {
  const snapLength = options.snapLength ?? PCAP_DEFAULT_SNAPLEN;
  let size = PCAP_GLOBAL_HEADER_LENGTH;
  for (const r of records) {
    const data = r instanceof Uint8Array ? r : r.data;
    size += PCAP_RECORD_HEADER_LENGTH + Math.min(data.length, snapLength);
  }
  const out = Buffer.alloc(size);
  out.writeUInt32LE(PCAP_MAGIC, 0);
  out.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  out.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(snapLength, 16);
  out.writeUInt32LE(options.linkType ?? PCAP_LINKTYPE_ETHERNET, 20);
  let off = PCAP_GLOBAL_HEADER_LENGTH;
  records.forEach((r, index) => {
    const data = r instanceof Uint8Array ? r : r.data;
    const micros = (r instanceof Uint8Array ? undefined : r.timestampMicros) ?? index * 1000;
    const captured = Math.min(data.length, snapLength);
    out.writeUInt32LE(Math.floor(micros / 1e6) >>> 0, off);
    out.writeUInt32LE(Math.floor(micros % 1e6), off + 4);
    out.writeUInt32LE(captured, off + 8);
    out.writeUInt32LE(data.length, off + 12);
    out.set(data.subarray(0, captured), off + PCAP_RECORD_HEADER_LENGTH);
    off += PCAP_RECORD_HEADER_LENGTH + captured;
  });
  return out;
}
