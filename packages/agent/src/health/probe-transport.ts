/**
 * What the health monitor needs from the agent's data path: send a probe frame
 * to a peer over the real encapsulation, and hand back probe frames that
 * arrive. The agent adapts its data path (control-surface probe hook +
 * sendProbe) to this with a thin adapter; tests use a fake in memory.
 */
import type { Encap } from '@dvs/wire';

export interface TunnelVtep {
  address: string;
  port: number;
}

/** One peer VTEP as the monitor probes it. */
export interface TunnelPeer {
  /** Peer VTEP (underlay address + UDP port). */
  vtep: TunnelVtep;
  /** Encap of the network the probes travel in. */
  encap: Encap;
  /** VNI the probes travel in (any network shared with the peer). */
  vni: number;
  /** Host id of the peer when it is a dvs agent. */
  host?: string;
  /** Not a dvs agent (kernel vxlan, hardware switch): listed, never probed, never `down`. */
  external?: boolean;
}

/** Where a received probe came from, as the data path saw it. */
export interface ProbeSource {
  /** Outer source address and port of the packet. */
  address: string;
  port: number;
  encap: Encap;
  vni: number;
}

export interface ProbeTransport {
  /**
   * Sends one probe frame (a complete inner Ethernet frame) to `peer`.
   * May throw (or reject) an error carrying a Node errno `code`
   * (EHOSTUNREACH, ENETUNREACH, …); the monitor records it as the reason
   * when the tunnel goes down.
   */
  send(peer: TunnelPeer, frame: Uint8Array): void | Promise<void>;
  /**
   * Registers the one receiver of probe frames diverted by the data path.
   * The frame bytes are only valid during the call. null unregisters.
   */
  onReceive(handler: ((source: ProbeSource, frame: Uint8Array) => void) | null): void;
}

/** Stable key of a tunnel: one row per (peer VTEP, encap). */
export function tunnelKey(peer: Pick<TunnelPeer, 'vtep' | 'encap'>): string {
  const address = peer.vtep.address.includes(':') ? `[${peer.vtep.address}]` : peer.vtep.address;
  return `${address}:${peer.vtep.port}/${peer.encap}`;
}
