import { after, before } from 'node:test';
import { PacketBatch, openTapSync } from '../src/index.js';
import { LabNamespace, PacketSocket } from '../src/testing/index.js';
import { frameDeviceCompliance } from './compliance/frame-device.js';
import { isTestFrame, packetsOf, place } from './compliance/frames.js';

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
  const out = new PacketBatch(1, 2048);
  const rx = new PacketBatch(64, 2048);
  return {
    device,
    inject: (frame) => {
      place(out, 0, frame, 0);
      if (wire.send(out, [0], 1) !== 1) throw new Error('the packet socket did not take the frame');
    },
    takeWritten: () => packetsOf(rx, wire.recv(rx, 0)).filter(isTestFrame),
    setLinkUp: (up) => ns.ip('link', 'set', name, up ? 'up' : 'down'),
    dispose: () => {
      device.close();
      wire.close();
    },
  };
});
