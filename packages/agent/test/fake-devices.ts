// AgentDevices over the netdev fakes: a fake kernel whose links (TAPs, veths,
// macvlans, the underlay) are a FakeLinks, so the agent's link monitor, its
// attached ports and its TAPs see one consistent namespace.
import { NetdevError, type OpenAttachedOptions } from '@dvs/netdev';
import { FakeLinks, type FakeAttachedDevice, type FakeLinkOptions, type FakeUdpNetwork } from '@dvs/netdev/testing';
import type { AgentDevices } from '../src/agent-devices.js';

export class FakeKernel implements AgentDevices {
  readonly links = new FakeLinks();
  /** The TAP the agent last opened under each name (a FakeAttachedDevice on the TAP's link). */
  readonly taps = new Map<string, FakeAttachedDevice>();
  /** The device the agent last attached under each name. */
  readonly attached = new Map<string, FakeAttachedDevice>();
  /** TAPs that survive their last close (`ip tuntap add`, TUNSETPERSIST). */
  readonly persistent = new Set<string>();
  /** TAPs another process holds open (QEMU): opening them as a TAP is DVS_DEVICE_BUSY. */
  readonly held = new Set<string>();
  /** Underlay addresses by the device holding them. */
  readonly addresses = new Map<string, string>();

  constructor(readonly net: FakeUdpNetwork) {}

  /** A persistent TAP made beforehand (`ip tuntap add`), for adopt. */
  precreate(name: string, options: FakeLinkOptions = {}): void {
    this.links.add(name, { kind: 'tap', ...options });
    this.persistent.add(name);
  }

  /** A TAP that QEMU created and holds (attach it; adopting it is DVS_DEVICE_BUSY). Its holder's exit deletes it. */
  qemuTap(name: string, options: FakeLinkOptions = {}): void {
    this.links.add(name, { kind: 'tap', ...options });
    this.held.add(name);
  }

  /** The holder of a QEMU-style TAP exits (SIGKILL or not): the TAP goes with its fd. */
  qemuExits(name: string): void {
    this.held.delete(name);
    this.links.remove(name);
  }

  exists(name: string): boolean {
    return this.links.describe(name).exists;
  }

  async openTap(options: { name: string; mtu?: number; persistent?: boolean }) {
    const link = this.links.describe(options.name);
    if (link.exists && link.kind !== 'tap')
      throw new NetdevError('DVS_NAME_IN_USE', `${options.name} exists and is not a TAP (kind ${link.kind})`);
    const open = this.taps.get(options.name);
    if (this.held.has(options.name) || (link.exists && open !== undefined && !open.closed))
      throw new NetdevError('DVS_DEVICE_BUSY', `the TAP ${options.name} is already attached to another process`);
    if (!link.exists) this.links.add(options.name, { kind: 'tap', mtu: options.mtu ?? 1500 });
    else if (options.mtu !== undefined) this.links.setMtu(options.name, options.mtu);
    if (options.persistent === true) this.persistent.add(options.name);
    if (options.persistent === false) this.persistent.delete(options.name);
    const tap = this.links.open({ name: options.name });
    const close = tap.close.bind(tap);
    tap.close = () => {
      if (tap.closed) return;
      close();
      if (!this.persistent.has(options.name) && !tap.gone && this.exists(options.name)) this.links.remove(options.name);
    };
    Object.defineProperty(tap, 'existed', { value: link.exists });
    this.taps.set(options.name, tap);
    return tap as FakeAttachedDevice & { existed: boolean };
  }

  async openAttached(options: OpenAttachedOptions) {
    const device = this.links.open(options);
    this.attached.set(options.name, device);
    return device;
  }

  async openTunnelSocket(options: { address: string; port: number }) {
    return this.net.bind(options);
  }

  describeLink(name: string) {
    return this.links.describe(name);
  }

  openLinkMonitor() {
    return this.links.openMonitor();
  }

  addressOwner(address: string): string | null {
    for (const [device, a] of this.addresses) if (a === address) return device;
    return null;
  }
}
