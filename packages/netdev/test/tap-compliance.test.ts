import { after, before } from 'node:test';
import { openTapSync } from '../src/index.js';
import { LabNamespace, PacketSocket } from '../src/testing/index.js';
import { frameDeviceCompliance } from './compliance/frame-device.js';
import { frameDeviceOffloadCompliance } from './compliance/frame-device-offloads.js';
import { wireSideHarness } from './compliance/wire-harness.js';

// The real TAP, inside a namespace of our own; its wire side is an AF_PACKET
// socket on the same interface.

let ns: LabNamespace;
let index = 0;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}c`);
});
after(() => ns.dispose());

frameDeviceCompliance('TapDevice (real TAP in a namespace)', async () => {
  const name = `dvn${process.pid}t${index++}`;
  const { device, wire } = ns.run(() => {
    const device = openTapSync({ name, mtu: 1500 });
    return { device, wire: new PacketSocket(name) };
  });
  return wireSideHarness(device, wire, (up) => ns.ip('link', 'set', name, up ? 'up' : 'down'));
});

for (const headerLength of [10, 12] as const) {
  frameDeviceOffloadCompliance(`TapDevice with offloads, ${headerLength}-byte header`, async () => {
    const name = `dvn${process.pid}t${index++}`;
    const { device, wire } = ns.run(() => {
      const device = openTapSync({ name, mtu: 1500, offloads: { headerLength } });
      return { device, wire: new PacketSocket(name) };
    });
    return wireSideHarness(device, wire, (up) => ns.ip('link', 'set', name, up ? 'up' : 'down'));
  });
}
