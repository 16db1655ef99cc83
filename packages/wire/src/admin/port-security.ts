/**
 * Port security settings and drop counters (the agent's data path checks
 * them: packages/agent/src/datapath/port-security.ts). The JSON shape of the
 * agent config's `ports[].security`, the state file, and the admin replies.
 */

/** One allowed source: a MAC and the IP addresses it may use (none: any). */
export interface AllowedPair {
  mac: string;
  ips?: string[];
}

/** Storm control limits per class in frames per second; 0 or absent: no limit. */
export interface StormLimits {
  broadcastPps?: number;
  multicastPps?: number;
  unknownUnicastPps?: number;
}

/** A port's security settings (all optional; none: the port may send anything). */
export interface PortSecurity {
  allowed?: AllowedPair[];
  lockFirstMac?: boolean;
  /** Learned MACs per VNI on the port; 0 or absent: only the VNI's FDB limit. */
  maxMacs?: number;
  storm?: StormLimits;
}

/** Drops by port security and L2 hygiene on one port, by reason and storm class. */
export interface PortSecurityCounters {
  portSecurity: number;
  arpSpoof: number;
  ndSpoof: number;
  macLimit: number;
  taggedOnAccess: number;
  stormBroadcast: number;
  stormMulticast: number;
  stormUnknownUnicast: number;
}
