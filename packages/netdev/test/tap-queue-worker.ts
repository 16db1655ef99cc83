// Worker-thread side of tap-multi-queue.test.ts: enters the test's namespace
// (setns is per thread), opens one queue of a multi-queue TAP, waits on its
// own event loop until a frame arrives, counts what it read, writes one
// frame into the TAP, reports, and closes its queue when told.
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch, enterNetworkNamespace, openTapSync } from '../src/index.js';

const { netns, name, frame } = workerData as { netns: string; name: string; frame: Uint8Array };
const restore = enterNetworkNamespace(netns);
const tap = openTapSync({ name, multiQueue: true });
restore();
const batch = new PacketBatch(64, 2048);
let read = 0;
tap.onReadable(() => {
  read += tap.read(batch, 0);
  tap.onReadable(null);
  batch.buffer.set(frame, 0);
  batch.offsets[0] = 0;
  batch.lengths[0] = frame.length;
  const written = tap.write(batch, [0], 1);
  parentPort!.postMessage({ read, written });
});
// The queue stays open until the test has looked at the device: it goes with the last queue.
parentPort!.on('message', () => {
  tap.close();
  parentPort!.close();
});
parentPort!.postMessage({ ready: true });
