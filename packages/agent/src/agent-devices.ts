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
import { silentLogger, type Logger } from './observe/logger.js';

/**
 * How the agent gets its devices. The Linux implementation opens real TAPs and
 * the native batched UDP socket; tests pass fakes.
 */
export interface AgentDevices {
  /** Opens (creates or adopts) a TAP. `existed` (when known) says whether it was adopted. */
  openTap(options: OpenTapOptions): Promise<FrameDevice & { readonly existed?: boolean }>;
  openTunnelSocket(options: OpenTunnelOptions): Promise<TunnelSocket>;
  /** Whether a network interface of this name exists now (create vs adopt). */
  interfaceExists(name: string): Promise<boolean>;
}

/**
 * Real TAPs and native batched UDP sockets. When the netdev addon is not
 * built the tunnel sockets fall back to node:dgram (one datagram per system
 * call: far slower), and the logger says so in one warning, the first time.
 * `openNative` is the native socket opener (tests pass one that fails).
 */
export function linuxDevices(
  logger: Logger = silentLogger,
  openNative: (options: OpenTunnelOptions) => Promise<TunnelSocket> = openTunnelSocket,
): AgentDevices {
  let warned = false;
  return {
    openTap: (options) => openTap(options),
    async openTunnelSocket(options) {
      try {
        return await openNative(options);
      } catch (err) {
        if (!isNetdevError(err, 'DVS_NATIVE_UNAVAILABLE')) throw err;
        if (!warned) {
          warned = true;
          logger.warn(
            'the netdev native addon is not built: tunnel sockets fall back to node:dgram (one datagram per system call); run scripts/bootstrap.sh',
            { error: (err as Error).message },
          );
        }
        return openDgramTunnelSocket(options);
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
}
