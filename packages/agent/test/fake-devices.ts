// AgentDevices over the netdev fakes: a fake kernel with a set of interface names.
import { FakeFrameDevice, type FakeUdpNetwork } from '@dvs/netdev/testing';
import type { AgentDevices } from '../src/agent-devices.js';

export class FakeKernel implements AgentDevices {
  /** Interfaces that exist, and whether each is persistent (survives close). */
  readonly interfaces = new Map<string, { persistent: boolean }>();
  readonly taps = new Map<string, FakeFrameDevice>();

  constructor(readonly net: FakeUdpNetwork) {}

  /** A persistent TAP made beforehand (`ip tuntap add`), for adopt. */
  precreate(name: string): void {
    this.interfaces.set(name, { persistent: true });
  }

  async openTap(options: { name: string; mtu?: number }) {
    const existed = this.interfaces.has(options.name);
    if (!existed) this.interfaces.set(options.name, { persistent: false });
    const mtu = options.mtu ?? (existed ? 1500 : 1500);
    const tap = new FakeFrameDevice({ name: options.name, mtu });
    const close = tap.close.bind(tap);
    const interfaces = this.interfaces;
    Object.defineProperty(tap, 'existed', { value: existed });
    tap.close = () => {
      close();
      if (interfaces.get(options.name)?.persistent === false) interfaces.delete(options.name);
    };
    this.taps.set(options.name, tap);
    return tap as FakeFrameDevice & { existed: boolean };
  }

  async openTunnelSocket(options: { address: string; port: number }) {
    return this.net.bind(options);
  }

  async interfaceExists(name: string): Promise<boolean> {
    return this.interfaces.has(name);
  }
}
