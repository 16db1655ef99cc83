import { after, before } from 'node:test';
import { openAttachedDeviceSync } from '../src/index.js';
import type { AttachBatching } from '../src/index.js';
import { LabNamespace, PacketSocket } from '../src/testing/index.js';
import { frameDeviceCompliance } from './compliance/frame-device.js';
import { frameDeviceOffloadCompliance } from './compliance/frame-device-offloads.js';
import { wireSideHarness } from './compliance/wire-harness.js';

// The attached device passes the whole FrameDevice suite, in both batching
// modes, attached to one end of a veth pair inside a namespace of our own.
// The wire side is an AF_PACKET socket on the other end: what it sends, the
// port reads; what the port writes, it receives. "Link down" is the attached
// end set down, as `ip link set … down` on a VM's TAP would be. One part does
// not apply to the TPACKET_V3 ring: it hands frames over a block at a time
// (when the block fills or its timer fires), so a burst of 13 can come as 7
// and 6, and no read returns a full batch of 8 (deliversInBlocks).

let ns: LabNamespace;
let index = 0;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}a`);
});
after(() => ns.dispose());

function vethPort(batching: AttachBatching, offloads: boolean): ReturnType<typeof wireSideHarness> {
  const name = `dvn${process.pid}v${index++}`;
  const peer = `${name}p`;
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
  ns.ip('link', 'set', peer, 'up');
  ns.ip('link', 'set', name, 'up');
  const { device, wire } = ns.run(() => ({
    device: openAttachedDeviceSync({ name, batching, offloads }),
    wire: new PacketSocket(peer),
  }));
  return wireSideHarness(
    device,
    wire,
    (up) => ns.ip('link', 'set', name, up ? 'up' : 'down'),
    () => ns.ip('link', 'del', name),
    batching === 'tpacket-v3',
  );
}

frameDeviceOffloadCompliance('AttachedDevice with PACKET_VNET_HDR (a veth end in a namespace)', async () =>
  vethPort('mmsg', true),
);

for (const batching of ['mmsg', 'tpacket-v2', 'tpacket-v3'] as AttachBatching[]) {
  frameDeviceCompliance(`AttachedDevice, ${batching} (a veth end in a namespace)`, async () =>
    vethPort(batching, false),
  );
}
