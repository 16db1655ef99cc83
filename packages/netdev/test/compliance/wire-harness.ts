import { PacketBatch } from '../../src/index.js';
import type { FrameDevice } from '../../src/index.js';
import type { PacketSocket } from '../../src/testing/index.js';
import type { FrameDeviceHarness } from './frame-device.js';
import { isTestFrame, packetsOf, place } from './frames.js';

/**
 * The harness of a real device whose wire side is an AF_PACKET socket (the
 * TAP's own interface, or the far end of an attached veth): what the socket
 * sends, the device reads; what the device writes, the socket receives.
 */
export function wireSideHarness(
  device: FrameDevice,
  wire: PacketSocket,
  setLinkUp: (up: boolean) => void,
  cleanUp: () => void = () => {},
  deliversInBlocks = false,
): FrameDeviceHarness {
  const out = new PacketBatch(1, 2048);
  const rx = new PacketBatch(64, 2048);
  return {
    device,
    inject: (frame) => {
      place(out, 0, frame, 0);
      if (wire.send(out, [0], 1) !== 1) throw new Error('the packet socket did not take the frame');
    },
    takeWritten: () => packetsOf(rx, wire.recv(rx, 0)).filter(isTestFrame),
    setLinkUp,
    deliversInBlocks,
    dispose: () => {
      device.close();
      wire.close();
      cleanUp();
    },
  };
}
