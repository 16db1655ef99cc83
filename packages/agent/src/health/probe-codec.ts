/**
 * Tunnel probe frames: the inner Ethernet frames that agents send each other
 * over the real encapsulation (same sockets, same ports, same VNI as data), so
 * a probe tests the path data takes.
 *
 * Frame layout (big endian), 60 bytes on the wire (the Ethernet minimum):
 *
 *   0  dst MAC        PROBE_MAC (reserved, locally administered, unicast)
 *   6  src MAC        PROBE_MAC
 *  12  ethertype      0x88b5 (IEEE 802 local experimental ethertype 1)
 *  14  magic          "DVSP" (0x44565350)
 *  18  version        1
 *  19  kind           1 = request, 2 = reply
 *  20  flags          0 (reserved)
 *  22  reserved       0
 *  24  session id     u32: the sender's session id, random per agent start;
 *                     a change tells the receiver that the peer restarted
 *  28  seq            u32: request seq, echoed unchanged in the reply
 *  32  echo session   u32: in a reply, the requester's session id (so a reply
 *                     meant for an earlier incarnation is ignored); 0 in a request
 *  36  timestamp      f64: requester's monotonic send time in ms, echoed in the reply
 *  44  padding        zeros up to 60
 *
 * The data path diverts frames with this ethertype addressed to PROBE_MAC to
 * the health monitor before learning or forwarding; they never reach a port.
 */

export const PROBE_ETHERTYPE = 0x88b5;
/** 02:64:76:73:00:01 — "dvs" in the locally administered unicast space. */
export const PROBE_MAC = 0x02_64_76_73_00_01;
export const PROBE_MAGIC = 0x44565350;
export const PROBE_VERSION = 1;
export const PROBE_FRAME_LENGTH = 60;

const ETH_DST = 0;
const ETH_SRC = 6;
const ETH_TYPE = 12;
const MAGIC_OFFSET = 14;
const VERSION_OFFSET = 18;
const KIND_OFFSET = 19;
const SESSION_OFFSET = 24;
const SEQ_OFFSET = 28;
const ECHO_SESSION_OFFSET = 32;
const TIMESTAMP_OFFSET = 36;
/** Bytes that carry meaning; the rest is padding. */
const PROBE_CONTENT_LENGTH = 44;

export type ProbeKind = 'request' | 'reply';

export interface Probe {
  kind: ProbeKind;
  /** Sender's session id (u32, nonzero). */
  session: number;
  seq: number;
  /** In a reply: the requester's session id. 0 in a request. */
  echoSession: number;
  /** Requester's monotonic send time (ms), echoed in the reply. */
  timestamp: number;
}

const KIND_CODE: Record<ProbeKind, number> = { request: 1, reply: 2 };

function writeMac48(view: DataView, off: number, mac: number): void {
  view.setUint16(off, Math.floor(mac / 0x1_0000_0000));
  view.setUint32(off + 2, mac >>> 0);
}

function readMac48(view: DataView, off: number): number {
  return view.getUint16(off) * 0x1_0000_0000 + view.getUint32(off + 2);
}

/**
 * Writes a complete probe frame at `off`; the caller provides at least
 * PROBE_FRAME_LENGTH bytes there. Returns the frame length.
 */
export function encodeProbeFrame(buf: Uint8Array, off: number, probe: Probe): number {
  const view = new DataView(buf.buffer, buf.byteOffset + off, PROBE_FRAME_LENGTH);
  buf.fill(0, off, off + PROBE_FRAME_LENGTH);
  writeMac48(view, ETH_DST, PROBE_MAC);
  writeMac48(view, ETH_SRC, PROBE_MAC);
  view.setUint16(ETH_TYPE, PROBE_ETHERTYPE);
  view.setUint32(MAGIC_OFFSET, PROBE_MAGIC);
  view.setUint8(VERSION_OFFSET, PROBE_VERSION);
  view.setUint8(KIND_OFFSET, KIND_CODE[probe.kind]);
  view.setUint32(SESSION_OFFSET, probe.session >>> 0);
  view.setUint32(SEQ_OFFSET, probe.seq >>> 0);
  view.setUint32(ECHO_SESSION_OFFSET, probe.echoSession >>> 0);
  view.setFloat64(TIMESTAMP_OFFSET, probe.timestamp);
  return PROBE_FRAME_LENGTH;
}

/** A new buffer holding one probe frame (for transports that take owned bytes). */
export function probeFrame(probe: Probe): Uint8Array {
  const buf = new Uint8Array(PROBE_FRAME_LENGTH);
  encodeProbeFrame(buf, 0, probe);
  return buf;
}

/**
 * True when the frame at `off` (of `len` bytes) is addressed as a probe: the
 * cheap test the data path runs before diverting a frame to the monitor.
 */
export function isProbeFrame(buf: Uint8Array, off: number, len: number): boolean {
  if (len < PROBE_CONTENT_LENGTH || off < 0 || off + len > buf.length) return false;
  const view = new DataView(buf.buffer, buf.byteOffset + off, len);
  return view.getUint16(ETH_TYPE) === PROBE_ETHERTYPE && readMac48(view, ETH_DST) === PROBE_MAC;
}

/** Decodes a probe frame; null when it is short, not a probe, or of another version. */
export function decodeProbeFrame(buf: Uint8Array, off: number, len: number): Probe | null {
  if (!isProbeFrame(buf, off, len)) return null;
  const view = new DataView(buf.buffer, buf.byteOffset + off, len);
  if (view.getUint32(MAGIC_OFFSET) !== PROBE_MAGIC) return null;
  if (view.getUint8(VERSION_OFFSET) !== PROBE_VERSION) return null;
  const kindCode = view.getUint8(KIND_OFFSET);
  const kind: ProbeKind | null = kindCode === 1 ? 'request' : kindCode === 2 ? 'reply' : null;
  if (kind === null) return null;
  const session = view.getUint32(SESSION_OFFSET);
  if (session === 0) return null;
  const timestamp = view.getFloat64(TIMESTAMP_OFFSET);
  if (!Number.isFinite(timestamp)) return null;
  return {
    kind,
    session,
    seq: view.getUint32(SEQ_OFFSET),
    echoSession: view.getUint32(ECHO_SESSION_OFFSET),
    timestamp,
  };
}
