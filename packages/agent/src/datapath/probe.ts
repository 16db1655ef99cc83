import type { Encap } from '@dvs/wire';
import type { Vtep } from './control-surface.js';

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
}
