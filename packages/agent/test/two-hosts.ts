// Two data paths on a fake UDP underlay, each with fake TAPs: the unit-test lab.
import { FakeFrameDevice, FakeUdpNetwork, type FakeTunnelSocket } from '@dvs/netdev/testing';
import type { Encap } from '@dvs/wire';
import { DataPath, type DataPathOptions, type PortSpec, type TableChange } from '../src/datapath/index.js';

export const HOST_A = '198.51.100.1';
export const HOST_B = '198.51.100.2';

export interface FakeHost {
  address: string;
  dp: DataPath;
  sockets: Record<Encap, FakeTunnelSocket>;
  taps: Map<string, FakeFrameDevice>;
  addPort(spec: PortSpec, mtu?: number): FakeFrameDevice;
}

export function fakeHost(net: FakeUdpNetwork, address: string, options: DataPathOptions = {}): FakeHost {
  const dp = new DataPath({ agingTimer: false, ...options });
  const sockets = {
    vxlan: net.bind({ address, port: 4789 }),
    'gre-udp': net.bind({ address, port: 4754 }),
  };
  dp.attachSocket('vxlan', sockets.vxlan);
  dp.attachSocket('gre-udp', sockets['gre-udp']);
  const taps = new Map<string, FakeFrameDevice>();
  return {
    address,
    dp,
    sockets,
    taps,
    addPort(spec, mtu = 1450) {
      const tap = new FakeFrameDevice({ name: spec.name, mtu });
      dp.addPort(spec, tap);
      taps.set(spec.name, tap);
      return tap;
    },
  };
}

/** A network on both hosts with each other in the flood list. */
export function networkOnBoth(a: FakeHost, b: FakeHost, vni: number, encap: Encap = 'vxlan', mtu = 1450): void {
  const port = encap === 'vxlan' ? 4789 : 4754;
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const changes: TableChange[] = [
      { kind: 'network:set', network: { vni, encap, mtu } },
      { kind: 'flood:set', vni, vteps: [{ address: other.address, port }] },
    ];
    self.dp.apply(changes);
  }
}

export function twoHosts(options: DataPathOptions = {}): { net: FakeUdpNetwork; a: FakeHost; b: FakeHost } {
  const net = new FakeUdpNetwork();
  const a = fakeHost(net, HOST_A, options);
  const b = fakeHost(net, HOST_B, options);
  a.dp.start();
  b.dp.start();
  return { net, a, b };
}

export function stopAll(...hosts: FakeHost[]): void {
  for (const h of hosts) {
    h.dp.stop();
    for (const tap of h.taps.values()) tap.close();
    h.sockets.vxlan.close();
    h.sockets['gre-udp'].close();
  }
}
