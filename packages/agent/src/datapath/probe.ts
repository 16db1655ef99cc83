import type { PacketBatch, TunnelSocket } from '@dvs/netdev';
import type { Encap, ParsedIpAddress } from '@dvs/wire';
import type { Vtep } from './control-surface.js';
import { TUNNEL_HEADER_LENGTH, writeTunnelHeader } from './encap.js';
import { HEADROOM } from './pipeline-io.js';

/**
 * The tunnel-health hook. Probe frames travel inside the real encapsulation,
 * over the same sockets and ports as VM traffic, so a probe that gets through
 * proves the tunnel does.
 *
 * A probe frame is an ordinary Ethernet frame with destination PROBE_MAC and
 * EtherType PROBE_ETHERTYPE (0x88b5, IEEE 802 local experimental). The data
 * path diverts every decapsulated frame matching both — after validating the
 * outer source as a known VTEP of the VNI — to the registered ProbeHandler
 * instead of switching it. Probes are never learned, flooded or delivered to
 * a port. Without a handler they are dropped (`probe-unhandled`).
 */
export const PROBE_ETHERTYPE = 0x88b5;
/** Locally administered unicast "02:64:76:73:00:01" ("dvs"), reserved for probes. */
export const PROBE_MAC = 0x026476730001;

/**
 * Receives one probe. `frame` is a view into the receive batch, valid only
 * during the call: copy what you keep. `peer` is the VTEP it came from (its
 * configured address:port in this VNI), `vni` the VNI it arrived on.
 */
export type ProbeHandler = (peer: Vtep, vni: number, frame: Buffer) => void;

/** What sendProbe needs: which VTEP, over which encap and VNI. */
export interface ProbeTarget {
  vtep: Vtep;
  encap: Encap;
  vni: number;
  /**
   * Where the peer takes probes: a port it advertises (a kernel-datapath
   * host's probe port), null when it advertises none (its VTEP port), or
   * absent when nothing is known of it (static peers: a host like this one).
   */
  probePort?: number | null;
}

const PROBE_SLOTS = new Uint32Array([0]);

/**
 * Sends `frame` in slot 0 of `batch` (one slot, the probe's own) inside a
 * tunnel header to the target. `error` is why it was not sent: an errno
 * symbol ('EAGAIN', 'ENETUNREACH', …), or null when it was.
 */
export function sendProbeFrame(
  socket: TunnelSocket,
  batch: PacketBatch,
  address: ParsedIpAddress,
  target: ProbeTarget,
  frame: Uint8Array,
): { sent: number; error: string | null } {
  batch.buffer.set(frame, HEADROOM);
  writeTunnelHeader(target.encap, batch.buffer, HEADROOM - TUNNEL_HEADER_LENGTH, target.vni);
  batch.offsets[0] = HEADROOM - TUNNEL_HEADER_LENGTH;
  batch.lengths[0] = frame.length + TUNNEL_HEADER_LENGTH;
  const port = target.probePort ?? target.vtep.port;
  if (address.family === 4) batch.setIpv4Destination(0, address.ipv4, port);
  else batch.setIpv6Destination(0, address.ipv6, port);
  try {
    const sent = socket.send(batch, PROBE_SLOTS, 1);
    // A datagram the kernel refused (ENETUNREACH, …) is consumed, not sent: the socket says why.
    const refused = socket.lastSendError;
    if (sent !== 1) return { sent: 0, error: 'EAGAIN' };
    if (refused !== undefined && refused !== null) return { sent: 0, error: refused };
    return { sent: 1, error: null };
  } catch (err) {
    const errno = (err as { errno?: unknown }).errno;
    return { sent: 0, error: errno === undefined ? 'ESENDFAILED' : String(errno) };
  }
}
