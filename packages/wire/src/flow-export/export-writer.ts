/**
 * A bounded big-endian writer over one preallocated buffer: the shared
 * primitive of the sFlow v5 (XDR) and IPFIX (RFC 7011) encoders. Every write
 * checks room first and reports a full buffer by returning false; the caller
 * then sends what it has and starts the next datagram. Nothing allocates.
 */
export class ExportWriter {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  get room(): number {
    return this.buf.length - this.offset;
  }

  fits(n: number): boolean {
    return this.offset + n <= this.buf.length;
  }

  u8(v: number): void {
    this.buf[this.offset++] = v & 0xff;
  }

  u16(v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, this.offset);
    this.offset += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.offset);
    this.offset += 4;
  }

  /** An unsigned 64-bit counter from a JS number (exact up to 2^53). */
  u64(v: number): void {
    const high = Math.floor(v / 0x1_0000_0000);
    this.buf.writeUInt32BE(high >>> 0, this.offset);
    this.buf.writeUInt32BE((v - high * 0x1_0000_0000) >>> 0, this.offset + 4);
    this.offset += 8;
  }

  bytes(src: Uint8Array): void {
    this.buf.set(src, this.offset);
    this.offset += src.length;
  }

  /** Zero bytes up to the next multiple of 4 (XDR opaque padding). */
  pad4(): void {
    while ((this.offset & 3) !== 0) this.buf[this.offset++] = 0;
  }

  /** Overwrites a u16 written earlier (a length known only at the end). */
  patchU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, at);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }
}
