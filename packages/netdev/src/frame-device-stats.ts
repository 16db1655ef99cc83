import type { FrameDeviceStats } from './types.js';

/** A device's counters before its first frame: every FrameDeviceStats field at 0. */
export function zeroFrameDeviceStats(): FrameDeviceStats {
  return {
    framesRead: 0,
    framesWritten: 0,
    readDropsTooBig: 0,
    writeDropsInvalid: 0,
    writeDropsLinkDown: 0,
    rxQueueDrops: 0,
  };
}
