import type { FrameDevice } from '@dvs/netdev';
import type { PortPlug } from '@dvs/wire';
import { AgentError } from '../agent-error.js';
import type { AgentDevices } from '../agent-devices.js';
import type { PortRequest } from './managed-port.js';
import { SegmentingPortDevice, hasHeaders } from '../datapath/segmenting-port-device.js';

export interface PortDeviceOptions {
  /**
   * Open a TAP with offloads (virtio-net headers, TSO), and coalesce what
   * goes to TAP and attached ports into super-frames. Attached devices take
   * PACKET_VNET_HDR either way (see openPortDevice). The data path sees a
   * device with headers through a SegmentingPortDevice.
   */
  offloads: boolean;
}

/** A port's device, opened: what it is and (attached) its ifindex. */
export interface OpenedDevice {
  device: FrameDevice;
  /** 'tap', 'veth', 'macvlan', 'physical', … */
  deviceKind: string;
  /** The attached device's ifindex; null for a TAP. */
  ifindex: number | null;
}

/**
 * Opens a port's device by its plug: attach (an AF_PACKET socket on the
 * existing device, brought up; never the device holding the VTEP address),
 * or a TAP, created (with `mtu`, persistent or not) or adopted. Throws an
 * AgentError that names the device and the fix (openError).
 */
export async function openPortDevice(
  request: PortRequest,
  devices: AgentDevices,
  vtepAddress: string,
  mtu: () => Promise<number>,
  options: PortDeviceOptions = { offloads: false },
): Promise<OpenedDevice> {
  const { name, plug, persistent } = request;
  try {
    if (plug === 'attach') {
      if (devices.addressOwner(vtepAddress) === name)
        throw new AgentError(
          'DVS_DEVICE_UNSUITABLE',
          `${name} holds this agent's VTEP address ${vtepAddress} (the tunnel underlay): attaching it would switch tunnel packets into the overlay; attach the VM's or container's device instead`,
        );
      // The socket carries virtio-net headers (PACKET_VNET_HDR, 'mmsg' batching only) whatever `offloads` says:
      // unlike a TAP's, an attached device's super-frames (a veth peer's or a VM's TSO) are not ours to refuse,
      // and without the header each would be one frame too big, dropped. They come in whole and are segmented
      // here, as on a TAP; without offloads, frames to the device go plain (no coalescing). A kernel that
      // refuses the header leaves plain frames (logged once).
      const attached = await devices.openAttached({ name, up: true, offloads: true, batching: 'mmsg' });
      const device = hasHeaders(attached)
        ? new SegmentingPortDevice(attached, { coalesce: options.offloads })
        : attached;
      return { device, deviceKind: attached.kind, ifindex: attached.ifindex };
    }
    const device = await devices.openTap({
      name,
      up: true,
      ...(plug === 'create' ? { mtu: await mtu(), persistent } : {}),
      ...(options.offloads ? { offloads: true } : {}),
    });
    return { device: hasHeaders(device) ? new SegmentingPortDevice(device) : device, deviceKind: 'tap', ifindex: null };
  } catch (err) {
    throw openError(err, name, plug);
  }
}

/**
 * A device that would not open, as an AgentError that names the device and the
 * fix. netdev's own messages already do for attach (DVS_NO_DEVICE: "no device
 * X in this network namespace", DVS_DEVICE_UNSUITABLE: loopback, not
 * Ethernet); a TAP that someone else holds or a device that is not a TAP is
 * pointed to attach.
 */
export function openError(err: unknown, name: string, plug: PortPlug): AgentError {
  if (err instanceof AgentError) return err;
  const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'DVS_IO';
  const message = (err as Error).message ?? String(err);
  const what = plug === 'attach' ? 'attach to' : 'open TAP';
  let fix = '';
  if (code === 'DVS_DEVICE_BUSY')
    fix = `; a TAP that QEMU or libvirt holds is attached, not adopted: ports/add ${name} <mapping> attach`;
  else if (code === 'DVS_NAME_IN_USE')
    fix = `; ${name} is not a TAP: attach it instead (ports/add ${name} <mapping> attach)`;
  return new AgentError(code, `cannot ${what} ${name}: ${message}${fix}`, { cause: err });
}
