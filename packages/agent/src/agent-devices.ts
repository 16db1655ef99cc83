import { access } from 'node:fs/promises';
import {
  isNetdevError,
  openDgramTunnelSocket,
  openTap,
  openTunnelSocket,
  type FrameDevice,
  type OpenTapOptions,
  type OpenTunnelOptions,
  type TunnelSocket,
} from '@dvs/netdev';

/**
 * How the agent gets its devices. The Linux implementation opens real TAPs and
 * the native batched UDP socket (falling back to node:dgram when the addon is
 * not built); tests pass fakes.
 */
export interface AgentDevices {
  /** Opens (creates or adopts) a TAP. `existed` (when known) says whether it was adopted. */
  openTap(options: OpenTapOptions): Promise<FrameDevice & { readonly existed?: boolean }>;
  openTunnelSocket(options: OpenTunnelOptions): Promise<TunnelSocket>;
  /** Whether a network interface of this name exists now (create vs adopt). */
  interfaceExists(name: string): Promise<boolean>;
}

export const linuxDevices: AgentDevices = {
  openTap: (options) => openTap(options),
  async openTunnelSocket(options) {
    try {
      return await openTunnelSocket(options);
    } catch (err) {
      if (isNetdevError(err, 'DVS_NATIVE_UNAVAILABLE')) return openDgramTunnelSocket(options);
      throw err;
    }
  },
  async interfaceExists(name) {
    try {
      await access(`/sys/class/net/${name}`);
      return true;
    } catch {
      return false;
    }
  },
};
