import {
  GRE_UDP_HEADER_LENGTH,
  VXLAN_HEADER_LENGTH,
  readGreUdpVni,
  readVxlanVni,
  writeGreUdpHeader,
  writeVxlanHeader,
  type Encap,
} from '@dvs/wire';

/**
 * Encapsulation dispatch. Both encaps put an 8-byte header between the UDP
 * header and the inner frame, so one headroom serves both and the header is
 * written in place, right in front of the frame.
 */
export const TUNNEL_HEADER_LENGTH = 8;
// The two headers must stay the same length for in-place encap to be uniform.
if (VXLAN_HEADER_LENGTH !== TUNNEL_HEADER_LENGTH || GRE_UDP_HEADER_LENGTH !== TUNNEL_HEADER_LENGTH) {
  throw new Error('tunnel header lengths changed: revisit encap.ts');
}

/** Writes the tunnel header for `vni` at `off` (8 writable bytes guaranteed by the caller). */
export function writeTunnelHeader(encap: Encap, buf: Uint8Array, off: number, vni: number): void {
  if (encap === 'vxlan') writeVxlanHeader(buf, off, vni);
  else writeGreUdpHeader(buf, off, vni);
}

/** The VNI of the tunnel header at `off`, or -1 when malformed (never throws, never reads out of bounds). */
export function readTunnelVni(encap: Encap, buf: Uint8Array, off: number, length: number): number {
  return encap === 'vxlan' ? readVxlanVni(buf, off, length) : readGreUdpVni(buf, off, length);
}
