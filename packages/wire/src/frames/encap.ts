/**
 * The tunnel encapsulations dvs speaks. This is the one list: config, records,
 * the controller API, the CLI, the lab and the data path all take it from here.
 *
 *  - `vxlan`: RFC 7348, IANA UDP port 4789.
 *  - `gre-udp`: GRE-in-UDP, RFC 8086, IANA UDP port 4754 (GRE key = VNI << 8).
 */
import { GRE_UDP_PORT } from './gre-udp.js';
import { VXLAN_UDP_PORT } from './vxlan.js';

export const ENCAPS = ['vxlan', 'gre-udp'] as const;

export type Encap = (typeof ENCAPS)[number];

export function isEncap(value: unknown): value is Encap {
  return (ENCAPS as readonly unknown[]).includes(value);
}

/** The UDP port each encap listens on unless configured otherwise. */
export const DEFAULT_ENCAP_PORTS: Readonly<Record<Encap, number>> = { vxlan: VXLAN_UDP_PORT, 'gre-udp': GRE_UDP_PORT };
