import { networkInterfaces } from 'node:os';
import {
  describeLink,
  isNetdevError,
  openAttachedDevice,
  openDgramTunnelSocket,
  openLinkMonitor,
  openTap,
  openTunnelSocket,
  type AttachedFrameDevice,
  type FrameDevice,
  type LinkDescription,
  type LinkMonitor,
  type OpenAttachedOptions,
  type OpenTapOptions,
  type OpenTunnelOptions,
  type TunnelSocket,
} from '@dvs/netdev';
import { canonicalAddress } from './config/validate-config.js';

/**
 * How the agent gets its devices. The Linux implementation opens real TAPs,
 * attached devices (AF_PACKET) and the native batched UDP socket (falling
 * back to node:dgram when the addon is not built), and asks rtnetlink about
 * links — all in the agent's own network namespace, the one that holds the
 * devices; tests pass fakes (FakeLinks of @dvs/netdev/testing).
 */
export interface AgentDevices {
  /** Opens (creates or adopts) a TAP. `existed` (when known) says whether it was adopted. */
  openTap(options: OpenTapOptions): Promise<FrameDevice & { readonly existed?: boolean }>;
  /** Attaches to an existing device (port kind attach); refuses as openAttachedDevice does. */
  openAttached(options: OpenAttachedOptions): Promise<AttachedFrameDevice>;
  openTunnelSocket(options: OpenTunnelOptions): Promise<TunnelSocket>;
  /** The link of that name now (rtnetlink), or `{ exists: false }`. */
  describeLink(name: string): LinkDescription;
  /** The one link monitor of the agent (it must not keep the process alive). */
  openLinkMonitor(): LinkMonitor;
  /** The name of the device that holds `address` (the tunnel underlay's), or null. */
  addressOwner(address: string): string | null;
}

export const linuxDevices: AgentDevices = {
  openTap: (options) => openTap(options),
  openAttached: (options) => openAttachedDevice(options),
  async openTunnelSocket(options) {
    try {
      return await openTunnelSocket(options);
    } catch (err) {
      if (isNetdevError(err, 'DVS_NATIVE_UNAVAILABLE')) return openDgramTunnelSocket(options);
      throw err;
    }
  },
  describeLink: (name) => describeLink(name),
  openLinkMonitor() {
    const monitor = openLinkMonitor();
    monitor.unref();
    return monitor;
  },
  addressOwner(address) {
    const wanted = canonicalAddress(address);
    for (const [name, addresses] of Object.entries(networkInterfaces())) {
      if (addresses?.some((a) => canonicalAddress(a.address.replace(/%.*$/, '')) === wanted)) return name;
    }
    return null;
  },
};
