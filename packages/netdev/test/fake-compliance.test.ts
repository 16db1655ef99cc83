import { FakeFrameDevice, FakeLinks, FakeUdpNetwork, createFakeFramePair } from '../src/testing/index.js';
import { PacketBatch } from '../src/index.js';
import { frameDeviceCompliance } from './compliance/frame-device.js';
import { frameDeviceOffloadCompliance } from './compliance/frame-device-offloads.js';
import { isTestFrame, packetsOf, place } from './compliance/frames.js';
import { tunnelSocketCompliance } from './compliance/tunnel-socket.js';

// The fakes pass the same suites as the real TAP and sockets.

frameDeviceCompliance('FakeFrameDevice (test injects, device keeps writes)', async () => {
  const device = new FakeFrameDevice({ name: 'fake-solo' });
  return {
    device,
    inject: (frame) => device.inject(frame),
    takeWritten: () => device.takeWritten().filter(isTestFrame),
    setLinkUp: (up) => (device.linkUp = up),
    dispose: () => device.close(),
  };
});

frameDeviceCompliance('FakeFrameDevice pair (the peer is the wire side)', async () => {
  const [device, peer] = createFakeFramePair({ name: 'fake-a' }, { name: 'fake-b' });
  const out = new PacketBatch(1, 2048);
  const rx = new PacketBatch(64, 2048);
  return {
    device,
    inject: (frame) => {
      place(out, 0, frame, 0);
      peer.write(out, [0], 1);
    },
    takeWritten: () => packetsOf(rx, peer.read(rx, 0)).filter(isTestFrame),
    setLinkUp: (up) => (device.linkUp = up),
    dispose: () => {
      device.close();
      peer.close();
    },
  };
});

frameDeviceCompliance('FakeAttachedDevice (FakeLinks; the test injects, the device keeps writes)', async () => {
  const links = new FakeLinks();
  links.add('vm1');
  const device = links.open({ name: 'vm1' });
  return {
    device,
    inject: (frame) => device.inject(frame),
    takeWritten: () => device.takeWritten().filter(isTestFrame),
    setLinkUp: (up) => links.setUp('vm1', up),
    dispose: () => device.close(),
  };
});

frameDeviceOffloadCompliance('FakeFrameDevice with a 10-byte header', async () => {
  const device = new FakeFrameDevice({ name: 'fake-offload', vnetHeaderLength: 10 });
  return {
    device,
    inject: (frame) => device.inject(frame),
    takeWritten: () => device.takeWritten().filter(isTestFrame),
    setLinkUp: (up) => (device.linkUp = up),
    dispose: () => device.close(),
  };
});

frameDeviceOffloadCompliance('FakeFrameDevice pair, 12-byte header against a plain peer (the wire side)', async () => {
  const [device, peer] = createFakeFramePair({ name: 'fake-c', vnetHeaderLength: 12 }, { name: 'fake-d' });
  const out = new PacketBatch(1, 2048);
  const rx = new PacketBatch(64, 2048);
  return {
    device,
    inject: (frame) => {
      place(out, 0, frame, 0);
      peer.write(out, [0], 1);
    },
    takeWritten: () => packetsOf(rx, peer.read(rx, 0)).filter(isTestFrame),
    setLinkUp: (up) => (device.linkUp = up),
    dispose: () => {
      device.close();
      peer.close();
    },
  };
});

const network = new FakeUdpNetwork();
tunnelSocketCompliance('FakeTunnelSocket', {
  open: async (options) => network.bind(options),
  openSendLimited: async () => {
    const sender = network.bind({ address: '127.0.0.1', port: 0 });
    const receiver = network.bind({ address: '127.0.0.1', port: 0 });
    sender.setSendBudget(4);
    return {
      sender,
      receiver,
      release: () => sender.setSendBudget(null),
      close: () => {
        sender.close();
        receiver.close();
      },
    };
  },
});
