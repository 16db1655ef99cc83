// Test frames for segmentation and coalescing, built and checked by hand:
// nothing here calls the library's checksum or header code, so the tests
// that use it check the library against an independent reading.

export interface TcpFrameSpec {
  version: 4 | 6;
  /** VID of one 802.1Q tag; untagged when absent. */
  vlan?: number;
  srcMac?: number;
  dstMac?: number;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** TCP flags byte; default ACK (0x10). */
  flags?: number;
  window?: number;
  /** TCP options, a multiple of 4 bytes (up to 40). */
  options?: Uint8Array;
  payload: Uint8Array;
  ttl?: number;
  tos?: number;
  id?: number;
  flowLabel?: number;
  /** UDP instead of TCP (for USO). */
  udp?: boolean;
}

export const MAC_A = 0x020000000a0a;
export const MAC_B = 0x020000000b0b;
const IPV4_A = [198, 51, 100, 10];
const IPV4_B = [198, 51, 100, 11];
const IPV6_A = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a];
const IPV6_B = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b];

/** MSS 1460, SACK permitted, timestamps, NOP padding: 20 bytes, what a SYN carries. */
export const TYPICAL_OPTIONS = Uint8Array.from([
  0x02,
  0x04,
  0x05,
  0xb4, // MSS 1460
  0x04,
  0x02,
  0x01,
  0x01, // SACK permitted, NOP, NOP
  0x08,
  0x0a,
  0x00,
  0x01,
  0x02,
  0x03,
  0x00,
  0x0a,
  0x0b,
  0x0c, // timestamps
  0x01,
  0x01, // NOP NOP
]);

/** Timestamps only (NOP NOP TS), what a Linux bulk sender carries: 12 bytes. */
export function timestampOptions(tsval: number, tsecr = 0x01020304): Uint8Array {
  const o = new Uint8Array(12);
  o[0] = 1;
  o[1] = 1;
  o[2] = 8;
  o[3] = 10;
  new DataView(o.buffer).setUint32(4, tsval >>> 0);
  new DataView(o.buffer).setUint32(8, tsecr >>> 0);
  return o;
}

/** The RFC 1071 sum of bytes[start, end) as big-endian 16-bit words, byte by byte. */
export function referenceSum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export function referenceChecksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = referenceSum(bytes, start, end) + initial;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, Math.floor((v >>> 0) / 0x10000));
  put16(b, o + 2, v & 0xffff);
}

function putMac(b: Uint8Array, o: number, mac: number): void {
  for (let i = 5; i >= 0; i--) {
    b[o + i] = mac % 256;
    mac = Math.floor(mac / 256);
  }
}

/** Reads a frame by hand: offsets and lengths, and whether its checksums verify. */
export interface FrameReading {
  l2: number;
  version: 4 | 6;
  ipLength: number;
  l4: number;
  l4HeaderLength: number;
  payloadOffset: number;
  payloadLength: number;
  ipChecksumOk: boolean;
  l4ChecksumOk: boolean;
  seq: number;
  flags: number;
  id: number;
  protocol: number;
}

function pseudoSum(b: Uint8Array, ip: number, version: 4 | 6, protocol: number, l4Length: number): number {
  const addresses = version === 4 ? referenceSum(b, ip + 12, ip + 20) : referenceSum(b, ip + 8, ip + 40);
  return addresses + protocol + l4Length;
}

export function readFrame(b: Uint8Array): FrameReading {
  const l2 = b[12] === 0x81 && b[13] === 0x00 ? 18 : 14;
  const version = (b[l2] >>> 4) as 4 | 6;
  const ip = l2;
  const ipHeaderLength = version === 4 ? (b[ip] & 0x0f) * 4 : 40;
  const ipLength = version === 4 ? (b[ip + 2] << 8) | b[ip + 3] : 40 + ((b[ip + 4] << 8) | b[ip + 5]);
  const protocol = version === 4 ? b[ip + 9] : b[ip + 6];
  const l4 = l2 + ipHeaderLength;
  const l4Length = ipLength - ipHeaderLength;
  const l4HeaderLength = protocol === 6 ? (b[l4 + 12] >>> 4) * 4 : 8;
  return {
    l2,
    version,
    ipLength,
    l4,
    l4HeaderLength,
    payloadOffset: l4 + l4HeaderLength,
    payloadLength: l4Length - l4HeaderLength,
    ipChecksumOk: version === 6 || referenceChecksum(b, ip, ip + ipHeaderLength) === 0,
    l4ChecksumOk: referenceChecksum(b, l4, l4 + l4Length, pseudoSum(b, ip, version, protocol, l4Length)) === 0,
    seq: protocol === 6 ? ((b[l4 + 4] << 24) | (b[l4 + 5] << 16) | (b[l4 + 6] << 8) | b[l4 + 7]) >>> 0 : 0,
    flags: protocol === 6 ? b[l4 + 13] : 0,
    id: version === 4 ? (b[ip + 4] << 8) | b[ip + 5] : 0,
    protocol,
  };
}

/** A complete frame with valid IP and transport checksums. */
export function buildTcpFrame(spec: TcpFrameSpec): Buffer {
  const l2 = spec.vlan === undefined ? 14 : 18;
  const ipHeaderLength = spec.version === 4 ? 20 : 40;
  const options = spec.options ?? new Uint8Array(0);
  const l4HeaderLength = spec.udp ? 8 : 20 + options.length;
  const l4Length = l4HeaderLength + spec.payload.length;
  const b = Buffer.alloc(l2 + ipHeaderLength + l4Length);
  putMac(b, 0, spec.dstMac ?? MAC_B);
  putMac(b, 6, spec.srcMac ?? MAC_A);
  if (spec.vlan !== undefined) {
    put16(b, 12, 0x8100);
    put16(b, 14, spec.vlan);
  }
  put16(b, l2 - 2, spec.version === 4 ? 0x0800 : 0x86dd);
  const ip = l2;
  const protocol = spec.udp ? 17 : 6;
  if (spec.version === 4) {
    b[ip] = 0x45;
    b[ip + 1] = spec.tos ?? 0;
    put16(b, ip + 2, ipHeaderLength + l4Length);
    put16(b, ip + 4, spec.id ?? 0x1234);
    b[ip + 6] = 0x40; // DF
    b[ip + 8] = spec.ttl ?? 64;
    b[ip + 9] = protocol;
    b.set(IPV4_A, ip + 12);
    b.set(IPV4_B, ip + 16);
    put16(b, ip + 10, referenceChecksum(b, ip, ip + 20));
  } else {
    const flow = spec.flowLabel ?? 0x12345;
    b[ip] = 0x60 | ((spec.tos ?? 0) >>> 4);
    b[ip + 1] = (((spec.tos ?? 0) & 0x0f) << 4) | ((flow >>> 16) & 0x0f);
    put16(b, ip + 2, flow & 0xffff);
    put16(b, ip + 4, l4Length);
    b[ip + 6] = protocol;
    b[ip + 7] = spec.ttl ?? 64;
    b.set(IPV6_A, ip + 8);
    b.set(IPV6_B, ip + 24);
  }
  const t = ip + ipHeaderLength;
  put16(b, t, spec.srcPort ?? 40000);
  put16(b, t + 2, spec.dstPort ?? 5201);
  if (spec.udp) {
    put16(b, t + 4, l4Length);
  } else {
    put32(b, t + 4, spec.seq ?? 1000);
    put32(b, t + 8, spec.ack ?? 5000);
    b[t + 12] = (l4HeaderLength / 4) << 4;
    b[t + 13] = spec.flags ?? 0x10;
    put16(b, t + 14, spec.window ?? 502);
    b.set(options, t + 20);
  }
  b.set(spec.payload, t + l4HeaderLength);
  const checksumAt = t + (spec.udp ? 6 : 16);
  let c = referenceChecksum(b, t, t + l4Length, pseudoSum(b, ip, spec.version, protocol, l4Length));
  if (spec.udp && c === 0) c = 0xffff;
  put16(b, checksumAt, c);
  return b;
}

/**
 * A super-frame as a TAP hands it over: the whole payload in one frame, the
 * transport checksum field holding the folded pseudo-header sum (CHECKSUM_
 * PARTIAL), and its virtio-net header fields.
 */
export function buildSuperFrame(
  spec: TcpFrameSpec,
  gsoSize: number,
): {
  frame: Buffer;
  header: { flags: number; gsoType: number; hdrLen: number; gsoSize: number; csumStart: number; csumOffset: number };
} {
  const frame = buildTcpFrame(spec);
  const r = readFrame(frame);
  const checksumAt = r.l4 + (spec.udp ? 6 : 16);
  const l4Length = r.ipLength - (r.l4 - r.l2);
  let partial = pseudoSum(frame, r.l2, spec.version, r.protocol, l4Length);
  while (partial > 0xffff) partial = (partial & 0xffff) + (partial >>> 16);
  put16(frame, checksumAt, partial);
  const gsoType = spec.udp ? 5 : spec.version === 4 ? 1 : 4;
  return {
    frame,
    header: {
      flags: 1,
      gsoType,
      hdrLen: r.payloadOffset,
      gsoSize,
      csumStart: r.l4,
      csumOffset: spec.udp ? 6 : 16,
    },
  };
}

/** `n` bytes of a recognisable pattern (position-dependent, so a misplaced chunk shows). */
export function patternPayload(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8) * 7 + seed) & 0xff;
  return b;
}
