import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import {
  describeLink,
  isNetdevError,
  openAttachedDevice,
  openFdbMonitor,
  openNeighbourSnooper,
  enableIpv6Neighbours,
  openRtnetlink,
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
import { canonicalIpAddress } from '@dvs/wire';
import type { KernelIo } from './dpif/kernel/kernel-provider.js';
import { silentLogger, type Logger } from './observe/logger.js';

/**
 * How the agent gets its devices. The Linux implementation opens real TAPs,
 * attached devices (AF_PACKET) and the native batched UDP socket, and asks
 * rtnetlink about links — all in the agent's own network namespace, the one
 * that holds the devices; tests pass fakes (FakeLinks of @dvs/netdev/testing).
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
  /**
   * The kernel datapath's I/O (rtnetlink and an FDB monitor of the bridges'
   * tables); throws when it cannot run here. Absent: devices without a kernel
   * datapath (the fakes).
   */
  openKernelIo?(): KernelIo;
}

/**
 * Real TAPs, attached devices, native batched UDP sockets and rtnetlink.
 * When the netdev addon is not built the tunnel sockets fall back to
 * node:dgram (one datagram per system call: far slower), and the logger says
 * so in one warning, the first time; a kernel that refuses UDP_GRO likewise
 * (the socket then receives one datagram at a time). `openNative` is the native socket
 * opener (tests pass one that fails).
 */
export function linuxDevices(
  logger: Logger = silentLogger,
  openNative: (options: OpenTunnelOptions) => Promise<TunnelSocket> = openTunnelSocket,
): AgentDevices {
  let warned = false;
  let groRefusalWarned = false;
  return {
    openTap: (options) => openTap(options),
    openAttached: (options) => openAttachedDevice(options),
    async openTunnelSocket(options) {
      try {
        const socket = await openNative(options);
        // UDP_GRO refused: the socket receives one datagram at a time (it works, slower); said once per process.
        if (socket.groRefusal != null && !groRefusalWarned) {
          groRefusalWarned = true;
          logger.warn('the kernel refused UDP_GRO: tunnel sockets receive datagrams one by one', {
            errno: socket.groRefusal.errno,
            reason: socket.groRefusal.reason,
          });
        }
        return socket;
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
    describeLink: (name) => describeLink(name),
    openLinkMonitor() {
      const monitor = openLinkMonitor();
      monitor.unref();
      return monitor;
    },
    openKernelIo() {
      const rtnl = openRtnetlink();
      try {
        const monitor = openFdbMonitor({ tables: 'master' });
        monitor.unref();
        try {
          const snooper = openNeighbourSnooper();
          snooper.unref();
          return {
            rtnl,
            monitor,
            snooper,
            openSender: (name) => openAttachedDevice({ name, up: true }),
            enableIpv6Neighbours,
            nft: runNft,
          };
        } catch (err) {
          monitor.close();
          throw err;
        }
      } catch (err) {
        rtnl.close();
        throw err;
      }
    },
    addressOwner(address) {
      const wanted = canonicalIpAddress(address);
      for (const [name, addresses] of Object.entries(networkInterfaces())) {
        if (addresses?.some((a) => canonicalIpAddress(a.address.replace(/%.*$/, '')) === wanted)) return name;
      }
      return null;
    },
  };
}

/** `nft` from nftables (the kernel datapath's port security), its standard input given; throws with its own message. */
function runNft(args: readonly string[], input?: string): string {
  try {
    return execFileSync('nft', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`nft ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}
