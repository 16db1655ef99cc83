import type { FrameDevice, PacketBatch } from '@dvs/netdev';
import { AgentError } from '../agent-error.js';
import type { AgentDevices } from '../agent-devices.js';
import type { PortRequest } from './managed-port.js';
import { openError, type OpenedDevice, type PortDeviceOptions } from './port-device.js';

/**
 * A port's device for a provider that wants the network device itself, not
 * its frames (the kernel datapath enslaves it to a bridge): nothing here
 * reads or writes frames. By plug:
 *  - attach: the existing device (a TAP QEMU holds, a veth end, a macvlan);
 *  - adopt: an existing TAP nobody holds;
 *  - create: a TAP made persistent and left unheld, for QEMU or libvirt to
 *    open by name (`-netdev tap,ifname=…,script=no`); closing the port
 *    deletes it unless the port is persistent.
 * `gone` asks rtnetlink whether the device of that ifindex is still there.
 */
export async function openLinkDevice(
  request: PortRequest,
  devices: AgentDevices,
  vtepAddress: string,
  mtu: () => Promise<number>,
  // The kernel datapath reads no frames: TAP offloads are the kernel's own business there.
  _options?: PortDeviceOptions,
): Promise<OpenedDevice> {
  const { name, plug } = request;
  try {
    if (plug === 'create') {
      const tap = await devices.openTap({ name, up: true, mtu: await mtu(), persistent: true });
      tap.close();
    } else if (plug === 'attach' && devices.addressOwner(vtepAddress) === name) {
      throw new AgentError(
        'DVS_DEVICE_UNSUITABLE',
        `${name} holds this agent's VTEP address ${vtepAddress} (the tunnel underlay): attach the VM's or container's device instead`,
      );
    }
    const link = devices.describeLink(name);
    if (!link.exists) throw new AgentError('DVS_NO_DEVICE', `no device ${name} in this network namespace`);
    if (plug === 'adopt' && link.kind !== 'tap')
      throw new AgentError('DVS_NAME_IN_USE', `${name} is a ${link.kind}, not a TAP`);
    const deleteTap = plug === 'create' && !request.persistent;
    const device = new LinkDevice(name, link.mtu, link.ifindex, devices, deleteTap);
    return { device, deviceKind: link.kind, ifindex: link.ifindex };
  } catch (err) {
    throw openError(err, name, plug);
  }
}

class LinkDevice implements FrameDevice {
  private closed = false;

  constructor(
    readonly name: string,
    readonly mtu: number,
    readonly ifindex: number,
    private readonly devices: AgentDevices,
    private readonly deleteOnClose: boolean,
  ) {}

  get gone(): boolean {
    const link = this.devices.describeLink(this.name);
    return !link.exists || link.ifindex !== this.ifindex;
  }

  read(_batch: PacketBatch, _headroom: number): number {
    return 0;
  }

  write(_batch: PacketBatch, _slots: ArrayLike<number>, _n: number): number {
    return 0;
  }

  onReadable(): void {
    // Its frames are the kernel's.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.deleteOnClose || this.gone) return;
    // A TAP this port created goes with it: opened once more, not persistent, and closed.
    void this.devices
      .openTap({ name: this.name, persistent: false, up: false })
      .then((tap) => tap.close())
      .catch(() => undefined);
  }
}
